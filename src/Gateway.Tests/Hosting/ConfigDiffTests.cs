using System.Text;
using Gateway.Configuration;
using Gateway.Hosting;
using Microsoft.Extensions.Configuration;

namespace Gateway.Tests.Hosting;

/// <summary>Issue 16: what a reload restarts, from the two files alone.</summary>
public sealed class ConfigDiffTests
{
    private const string Base = """
        {
          "gateway": { "id": "gw", "enterprise": "acme", "site": "lyon", "area": "a", "line": "l1" },
          "drivers": [
            { "name": "press", "type": "modbus-tcp", "host": "10.0.0.5", "tags": [ { "name": "speed", "address": "holding:0", "type": "uint16" } ] },
            { "name": "oven", "type": "modbus-tcp", "host": "10.0.0.6", "tags": [ { "name": "temperature", "address": "input:0", "type": "float32" } ] }
          ],
          "mqtt": { "port": 1883 }
        }
        """;

    private static (List<DriverEntry> Drivers, IConfigurationRoot Root) Load(string json)
    {
        var root = new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json))).Build();
        var config = root.Get<GatewayConfig>()!;
        return (ConfigDiff.Drivers(config, root), root);
    }

    private static ConfigChanges Diff(string before, string after)
    {
        var (running, runningRoot) = Load(before);
        var (next, nextRoot) = Load(after);
        return ConfigDiff.Compute(running, runningRoot, next, nextRoot);
    }

    [Fact]
    public void Compute_SameFileReformattedWithKeysReordered_ChangesNothing()
    {
        const string reordered = """
            {
              "mqtt": { "port": 1883 },
              "drivers": [
                { "type": "modbus-tcp",   "name": "press", "tags": [ { "type": "uint16", "address": "holding:0", "name": "speed" } ], "host": "10.0.0.5" },
                { "host": "10.0.0.6", "name": "oven", "type": "modbus-tcp", "tags": [ { "name": "temperature", "type": "float32", "address": "input:0" } ] }
              ],
              "gateway": { "line": "l1", "id": "gw", "enterprise": "acme", "site": "lyon", "area": "a" }
            }
            """;

        var changes = Diff(Base, reordered);

        Assert.True(changes.DriversUnchanged);
        Assert.Equal(["press", "oven"], changes.Unchanged.Select(d => d.Name));
        Assert.Empty(changes.RestartRequired);
    }

    [Fact]
    public void Compute_OneDriversTagChanged_OnlyThatDriverRestarts()
    {
        var changes = Diff(Base, Base.Replace("\"type\": \"float32\"", "\"type\": \"float32\", \"unit\": \"degC\"", StringComparison.Ordinal));

        Assert.Equal("oven", Assert.Single(changes.Changed).Name);
        Assert.Equal("press", Assert.Single(changes.Unchanged).Name);
        Assert.Empty(changes.Added);
        Assert.Empty(changes.Removed);
    }

    [Fact]
    public void Compute_DriverRenamed_IsRemovedAndTheNewNameAdded()
    {
        var changes = Diff(Base, Base.Replace("\"name\": \"oven\"", "\"name\": \"oven-2\"", StringComparison.Ordinal));

        Assert.Equal("oven-2", Assert.Single(changes.Added).Name);
        Assert.Equal("oven", Assert.Single(changes.Removed));
        Assert.Equal(1, Assert.Single(changes.Added).Index);
    }

    [Fact]
    public void Compute_DriverDisabled_IsRemoved_AndEnabledAgain_IsAdded()
    {
        var disabled = Base.Replace("\"name\": \"press\",", "\"name\": \"press\", \"enabled\": false,", StringComparison.Ordinal);

        var off = Diff(Base, disabled);
        var on = Diff(disabled, Base);

        Assert.Equal("press", Assert.Single(off.Removed));
        Assert.Equal("oven", Assert.Single(off.Unchanged).Name);
        Assert.Equal("press", Assert.Single(on.Added).Name);
        Assert.Empty(on.Removed);
    }

    [Fact]
    public void Compute_DriversReordered_RestartsNone()
    {
        const string reordered = """
            {
              "gateway": { "id": "gw", "enterprise": "acme", "site": "lyon", "area": "a", "line": "l1" },
              "drivers": [
                { "name": "oven", "type": "modbus-tcp", "host": "10.0.0.6", "tags": [ { "name": "temperature", "address": "input:0", "type": "float32" } ] },
                { "name": "press", "type": "modbus-tcp", "host": "10.0.0.5", "tags": [ { "name": "speed", "address": "holding:0", "type": "uint16" } ] }
              ],
              "mqtt": { "port": 1883 }
            }
            """;

        var changes = Diff(Base, reordered);

        Assert.Equal("oven", Load(reordered).Drivers[0].Name);
        Assert.True(changes.DriversUnchanged);
    }

    [Fact]
    public void Compute_MqttAndBufferChanged_ReportsThemAsNeedingARestart_AndRestartsNoDriver()
    {
        var changed = Base.Replace("\"mqtt\": { \"port\": 1883 }", "\"mqtt\": { \"port\": 1884 }, \"buffer\": { \"maxBytes\": 1000000 }", StringComparison.Ordinal);

        var changes = Diff(Base, changed);

        Assert.True(changes.DriversUnchanged);
        Assert.Equal(["buffer", "mqtt"], changes.RestartRequired);
    }

    [Fact]
    public void Canonical_ArrayItemsReordered_IsDifferent()
    {
        var (_, a) = Load("""{ "drivers": [ { "name": "d", "tags": [ { "name": "x" }, { "name": "y" } ] } ] }""");
        var (_, b) = Load("""{ "drivers": [ { "name": "d", "tags": [ { "name": "y" }, { "name": "x" } ] } ] }""");

        Assert.NotEqual(ConfigDiff.Canonical(a.GetSection("drivers:0")), ConfigDiff.Canonical(b.GetSection("drivers:0")));
    }
}
