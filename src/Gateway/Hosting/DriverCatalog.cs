using Gateway.Drivers;

namespace Gateway.Hosting;

/// <summary>
/// The <see cref="IDriverCatalog"/> of the running gateway: the drivers of the registered <see cref="DriverService"/>s,
/// in configuration order. The OEE, the dashboard and the outputs see the drivers through it, never through Hosting.
/// </summary>
internal sealed class DriverCatalog(IEnumerable<DriverService> services) : IDriverCatalog
{
    private readonly IDriver[] _drivers = [.. services.Select(s => s.Driver)];

    public IReadOnlyList<IDriver> Drivers => _drivers;
}
