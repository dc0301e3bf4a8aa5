using System.Text.Json.Nodes;

namespace Gateway.Tests.Infrastructure;

/// <summary>A gateway configuration for a test, in its own temporary folder.</summary>
public sealed class TestConfig : IDisposable
{
    public TestConfig()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("gw-test-").FullName;
        HttpPort = PortAllocator.FreeTcpPort();
        Root = new JsonObject
        {
            ["gateway"] = new JsonObject { ["id"] = "gw-test", ["enterprise"] = "acme", ["site"] = "lyon", ["area"] = "assembly", ["line"] = "line-1" },
            ["drivers"] = new JsonArray(),
            ["buffer"] = new JsonObject { ["path"] = Path.Combine(Directory, "buffer.db"), ["flushIntervalMs"] = 100 },
            ["mqtt"] = new JsonObject { ["maxReconnectDelayMs"] = 1000 },
            ["http"] = new JsonObject { ["urls"] = $"http://127.0.0.1:{HttpPort}" },
        };
    }

    public string Directory { get; }

    public int HttpPort { get; }

    public JsonObject Root { get; }

    public string FilePath => Path.Combine(Directory, "gateway.json");

    public string BufferPath => Root["buffer"]!["path"]!.GetValue<string>();

    public TestConfig WithBroker(int port)
    {
        Root["mqtt"]!["host"] = "127.0.0.1";
        Root["mqtt"]!["port"] = port;
        return this;
    }

    /// <summary>Adds a simulated driver with one always-running machine whose total counter advances every cycle.</summary>
    public TestConfig WithSimulatedMachine(string machine, int cycleMs, int intervalMs = 200, int rejectPermille = 0, double? stopAfterSeconds = null)
    {
        var driver = new JsonObject
        {
            ["name"] = "sim",
            ["type"] = "simulated",
            ["seed"] = 7,
            ["intervalMs"] = intervalMs,
            ["machines"] = new JsonArray(new JsonObject { ["name"] = machine, ["idealCycleMs"] = cycleMs, ["rejectPermille"] = rejectPermille, ["alwaysRunning"] = true }),
        };
        if (stopAfterSeconds is { } seconds)
        {
            driver["stopAfterSeconds"] = seconds;
        }

        Root["drivers"]!.AsArray().Add(driver);
        return this;
    }

    public string Write()
    {
        File.WriteAllText(FilePath, Root.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
        return FilePath;
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
