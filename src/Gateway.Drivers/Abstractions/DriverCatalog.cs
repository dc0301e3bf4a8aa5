namespace Gateway.Drivers;

/// <summary>
/// The drivers the gateway runs now, and their tags: what the outputs (Sparkplug births), the OEE and the
/// dashboard need to know about the southbound without depending on the host that runs the drivers.
/// Registered by the composition root; the list may change while the gateway runs (a reload), so read it
/// each time rather than keeping a copy.
/// </summary>
public interface IDriverCatalog
{
    /// <summary>The running drivers, in configuration order.</summary>
    IReadOnlyList<IDriver> Drivers { get; }

    /// <summary>Every tag of every running driver.</summary>
    IEnumerable<TagInfo> Tags => Drivers.SelectMany(d => d.Tags);

    /// <summary>Grows by one each time the list of drivers changes (a reload started or stopped one); 0 for a fixed list.</summary>
    long Version => 0;
}
