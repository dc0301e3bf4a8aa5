using System.Collections.Concurrent;
using Gateway.Drivers;
using Gateway.Drivers.OpcUa;
using Gateway.Drivers.OpcUa.Channel;
using Gateway.Drivers.OpcUa.Encoding;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.OpcUa;

/// <summary>
/// The <c>opcua</c> driver (polling) against a scripted server whose DataTypes are what the test says: a structure
/// decoded with the StructureDefinition read at connect, a body that does not match it, and a server older than
/// OPC UA 1.04 that has no DataTypeDefinition attribute. A structure that cannot be decoded is Bad with its reason
/// logged once, never Good text.
/// </summary>
public sealed class OpcUaStructureDriverTests
{
    private static readonly NodeId s_node = new(2, "Motor");
    private static readonly NodeId s_motor = new(2, 3003u);
    private static readonly NodeId s_encoding = new(2, 5003u);

    private static readonly StructureDefinition s_definition = new()
    {
        DefaultEncodingId = s_encoding,
        BaseDataType = new NodeId(0, 22u),
        Fields =
        [
            new StructureField { Name = "Speed", DataType = new NodeId(0, 10u), ValueRank = -1 },
            new StructureField { Name = "Torque", DataType = new NodeId(0, 4u), ValueRank = -1 },
        ],
    };

    /// <summary>The server: Read answers by attribute, Browse answers HasSubtype with Structure; the rest is <see cref="UaClientScriptedTests.Session"/>.</summary>
    private static IEnumerable<byte[]> Answer(uint id, IEncodeable request, ScriptedUaServer server, DataValue definition, byte[] body, ConcurrentQueue<uint> attributes)
    {
        return UaClientScriptedTests.Session(id, request, server, r => r switch
        {
            BrowseRequest => new BrowseResponse
            {
                Results = [new BrowseResult { References = [new ReferenceDescription { IsForward = false, NodeId = new ExpandedNodeId(new NodeId(0, 22u)), BrowseName = new QualifiedName(0, "Structure") }] }],
            },
            ReadRequest read => new ReadResponse
            {
                Results = read.NodesToRead!.Select(n =>
                {
                    if (n.NodeId.Equals(s_node) || n.NodeId.Equals(s_motor))
                    {
                        attributes.Enqueue(n.AttributeId); // the tag's node and its DataType only (not the client's own reads)
                    }

                    return (n.NodeId.Equals(s_node), n.AttributeId) switch
                    {
                        (true, AttributeIds.DataType) => new DataValue { Value = new Variant(BuiltInType.NodeId, s_motor) },
                        (true, AttributeIds.ValueRank) => new DataValue { Value = new Variant(BuiltInType.Int32, -1) },
                        (true, AttributeIds.Value) => new DataValue { Value = new Variant(BuiltInType.ExtensionObject, new ExtensionObject(s_encoding, 1, body, null)) },
                        (false, AttributeIds.BrowseName) => new DataValue { Value = new Variant(BuiltInType.QualifiedName, new QualifiedName(2, "MotorData")) },
                        (false, AttributeIds.DataTypeDefinition) => definition,
                        _ => new DataValue { Value = new Variant(BuiltInType.UInt32, 0u) },
                    };
                }).ToArray(),
            },
            _ => null,
        });
    }

    private static async Task<(List<Sample> Samples, ListLoggerProvider Log, TagInfo Tag, ConcurrentQueue<uint> Attributes)> RunAsync(DataValue definition, byte[] body, int reads)
    {
        await using var server = new ScriptedUaServer();
        var attributes = new ConcurrentQueue<uint>();
        server.OnMessage = (id, request, s) => Answer(id, request, s, definition, body, attributes);
        var (config, section) = DriverConfigs.Load($$"""
            { "drivers": [ { "name": "scripted", "type": "opcua", "machine": "m1", "endpointUrl": "opc.tcp://127.0.0.1:{{server.Port}}", "mode": "polling",
              "publishingIntervalMs": 50, "reconnectDelayMs": 200, "maxReconnectDelayMs": 1000,
              "tags": [ { "name": "motor", "address": "ns=2;s=Motor" } ] } ] }
            """);
        var log = new ListLoggerProvider();
        var factory = LoggerFactory.Create(builder => builder.AddProvider(log));
        await using var driver = (OpcUaDriver)new OpcUaDriverFactory().Create(config, section, new DriverContext(TimeProvider.System, factory));
        var writer = new CollectingWriter();
        using var cts = new CancellationTokenSource();
        var run = driver.RunAsync(writer, cts.Token);
        // A read answered is not yet a sample handed over: one more read means the previous ones were processed.
        await OpcUaIntegrationTests.WaitUntilAsync(() => attributes.Count(a => a == AttributeIds.Value) >= reads + 1 && !writer.Samples.IsEmpty);
        await cts.CancelAsync();
        await run;
        return ([.. writer.Samples], log, driver.Tags[0], attributes);
    }

    [Fact]
    public async Task Structure_WithItsDefinition_IsAGoodStructureWithItsLayoutKnownBeforeTheFirstValue()
    {
        byte[] body = [0x00, 0x00, 0xC0, 0x3F, 0x2E, 0xFB]; // Speed 1.5f, Torque -1234

        var (samples, _, tag, attributes) = await RunAsync(new DataValue { Value = new Variant(BuiltInType.ExtensionObject, new ExtensionObject(s_definition)) }, body, 3);

        var sample = samples.First();
        Assert.Equal(Quality.Good, sample.Quality);
        Assert.Equal("{\"Speed\":1.5,\"Torque\":-1234}", sample.Value.AsStructure!.ToString());
        Assert.Equal(SourceType.Structure, tag.SourceType);
        Assert.Equal("MotorData(Speed:Float, Torque:Int16)", tag.Structure!.ToString());
        // The definition was read before the first value (attribute 23 before 13).
        Assert.True(attributes.ToList().IndexOf(AttributeIds.DataTypeDefinition) < attributes.ToList().IndexOf(AttributeIds.Value));
    }

    [Fact]
    public async Task Structure_BodyShorterThanItsDefinition_IsBadDecodingError_LoggedOnce()
    {
        byte[] body = [0x00, 0x00, 0xC0, 0x3F, 0x2E]; // Torque cut after one byte

        var (samples, log, _, _) = await RunAsync(new DataValue { Value = new Variant(BuiltInType.ExtensionObject, new ExtensionObject(s_definition)) }, body, 4);

        var sample = Assert.Single(samples); // Bad once, not per read
        Assert.Equal(Quality.Bad, sample.Quality);
        Assert.Equal(SampleStatus.BadDecodingError, sample.StatusCode);
        var line = Assert.Single(log.Lines, l => l.Message.Contains("does not match its DataTypeDefinition", StringComparison.Ordinal));
        Assert.Equal(LogLevel.Warning, line.Level);
        Assert.Contains("scripted", line.Message, StringComparison.Ordinal);
        Assert.Contains("MotorData.Torque: unexpected end", line.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Structure_OnAServerWithoutDataTypeDefinition_IsBadWithTheReason_LoggedOnce()
    {
        byte[] body = [0x00, 0x00, 0xC0, 0x3F, 0x2E, 0xFB];

        var (samples, log, tag, _) = await RunAsync(new DataValue { StatusCode = new StatusCode(SampleStatus.BadAttributeIdInvalid) }, body, 4);

        var sample = Assert.Single(samples);
        Assert.Equal(Quality.Bad, sample.Quality);
        Assert.Equal(SampleStatus.BadDataEncodingUnsupported, sample.StatusCode);
        Assert.Null(tag.Structure);
        // Once at connect (the DataType has no definition), once when the value turned Bad: never per read.
        var lines = log.Lines.Where(l => l.Message.Contains("BadAttributeIdInvalid", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, lines.Count);
        Assert.All(lines, l => Assert.Contains("DataTypeDictionary", l.Message, StringComparison.Ordinal));
    }
}

/// <summary>The driver against node-opcua's custom MotorData: decoded at connect, and again after the server restarts (a new session reads the definitions again).</summary>
public sealed class OpcUaStructureDriverIntegrationTests
{
    [Fact]
    public async Task Driver_CustomStructure_IsDecoded_AndStillAfterTheServerRestarts()
    {
        await using var server = await NodeOpcUaServer.StartAsync("--big", "10");
        var (config, section) = DriverConfigs.Load($$"""
            { "drivers": [ { "name": "ua", "type": "opcua", "machine": "m1", "endpointUrl": "{{server.Url}}",
              "publishingIntervalMs": 100, "samplingIntervalMs": 100, "reconnectDelayMs": 200, "maxReconnectDelayMs": 1000, "keepAliveIntervalMs": 1000,
              "tags": [ { "name": "motor", "address": "ns=1;s=Structures.Motor" } ] } ] }
            """);
        var log = new ListLoggerProvider();
        await using var driver = (OpcUaDriver)new OpcUaDriverFactory().Create(config, section, new DriverContext(TimeProvider.System, LoggerFactory.Create(builder => builder.AddProvider(log))));
        var writer = new CollectingWriter();
        using var cts = new CancellationTokenSource();
        var run = driver.RunAsync(writer, cts.Token);
        static bool GoodMotor(Sample s) => s.Quality == Quality.Good && s.Value.Kind == SampleValueKind.Structure;

        await OpcUaIntegrationTests.WaitUntilAsync(() => writer.Samples.Any(GoodMotor));
        var firstCatalog = driver.DataTypeCatalog;
        await server.KillAsync();
        await OpcUaIntegrationTests.WaitUntilAsync(() => writer.Samples.Any(s => s.Quality == Quality.Bad));
        var badAt = writer.Samples.Count;
        await server.RestartAsync();
        // The recreated subscription may deliver before the new session's definitions are read: wait for both.
        await OpcUaIntegrationTests.WaitUntilAsync(() => writer.Samples.Skip(badAt).Any(GoodMotor) && !ReferenceEquals(firstCatalog, driver.DataTypeCatalog));
        await cts.CancelAsync();
        await run;

        var motor = writer.Samples.Skip(badAt).First(GoodMotor).Value.AsStructure!;
        Assert.Equal("MotorData", motor.TypeName);
        Assert.Equal(-1234, motor["Torque"].AsInteger);
        Assert.Equal(22.1f, motor["Profile"].AsArray![1].AsFloat);
        Assert.Equal("{\"X\":1.5,\"Y\":-2.25}", motor["Position"].ToString());
        Assert.Equal(2, driver.DataTypeCatalog.StructureCount); // MotorData and its nested Position
        Assert.Equal("MotorData", driver.Tags[0].Structure!.TypeName);
        Assert.Equal(2, log.Lines.Count(l => l.Message.Contains("2 structure DataTypes", StringComparison.Ordinal))); // read once per session, two sessions
    }
}
