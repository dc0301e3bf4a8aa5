using Gateway.Drivers;

namespace Gateway.Northbound.Sparkplug;

/// <summary>A reload changed the drivers: the session follows the new tag set.</summary>
public sealed partial class SparkplugSession
{
    /// <summary>
    /// Takes <paramref name="catalog"/> as the tags of the running drivers after a reload: a tag no driver has any
    /// more leaves its device (and its alias); a new tag, or one whose unit or source type changed, joins it (a
    /// changed one with a new alias). Every device whose metrics changed and that is alive gets a new DBIRTH now,
    /// with the values known; a device left without tags gets its DDEATH. Untouched devices send nothing.
    /// </summary>
    /// <returns>How many devices were born again.</returns>
    public int Retag(IEnumerable<TagInfo> catalog, List<SparkplugMessage> output)
    {
        // Nothing stays held: the births that wait go out first, with the samples they carry (no sample is lost).
        Flush(output, force: true);
        var wanted = new Dictionary<TagInfo, TagInfo>();
        foreach (var tag in catalog)
        {
            wanted.TryAdd(tag, tag);
        }

        var changed = new HashSet<DeviceState>();
        foreach (var state in _tags.Values.ToList())
        {
            var key = state.Tag;
            if (wanted.TryGetValue(key, out var next) && next.Unit == state.Tag.Unit && next.SourceType == state.Source.SourceType)
            {
                state.Source = next;
                continue;
            }

            // Gone, or announced with another unit or type: it leaves (a changed one comes back below, with a new alias).
            FinishData(state.Device, output);
            state.Device.Tags.Remove(state);
            state.Device.BadCount -= state.Bad ? 1 : 0;
            _tags.Remove(key);
            _aliasNames.TryRemove(state.Alias, out _);
            ForgetLeaves(state);
            changed.Add(state.Device);
        }

        foreach (var tag in wanted.Keys)
        {
            if (!_tags.TryGetValue(tag, out _))
            {
                var state = TagOf(tag);
                state.Source = tag;
                changed.Add(state.Device);
            }
        }

        var born = 0;
        foreach (var device in changed)
        {
            if (device.Tags.Count == 0)
            {
                if (_begun && device.Status == DeviceStatus.Alive)
                {
                    FinishData(device, output);
                    output.Add(DeviceDeath(device, 0));
                }

                // Forgotten: a sample of it read back from the buffer later makes it anew.
                _deviceList.Remove(device);
                _devices.Remove(device.Name);
                continue;
            }

            if (_begun && device.Status == DeviceStatus.Alive)
            {
                DeviceBirth(device, output);
                born++;
            }
        }

        return born;
    }
}
