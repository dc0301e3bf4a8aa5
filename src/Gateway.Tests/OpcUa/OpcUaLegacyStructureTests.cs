using Gateway.Drivers;
using Gateway.Drivers.OpcUa;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.OpcUa;

/// <summary>
/// The driver against node-opcua serving MotorData the pre-1.04 way (<c>server.mjs --legacy-structures</c>: attribute
/// 23 answers BadAttributeIdInvalid, an OPC Binary DataTypeDictionary describes the types), with a
/// MaxByteStringLength below the dictionary's size: the structures decode to the same values as from a
/// DataTypeDefinition, the dictionary read once, in IndexRange chunks.
/// </summary>
public sealed class OpcUaLegacyStructureTests
{
    [Fact]
    public async Task Driver_ServerWithoutDataTypeDefinition_DecodesFromTheDictionary_ReadOnceInChunks()
    {
        await using var server = await NodeOpcUaServer.StartAsync("--big", "10", "--legacy-structures", "--max-byte-string-length", "600");
        var (config, section) = DriverConfigs.Load($$"""
            { "drivers": [ { "name": "old-plc", "type": "opcua", "machine": "m1", "endpointUrl": "{{server.Url}}",
              "publishingIntervalMs": 100, "samplingIntervalMs": 100, "reconnectDelayMs": 200, "maxReconnectDelayMs": 1000,
              "tags": [ { "name": "motor", "address": "ns=1;s=Structures.Motor" }, { "name": "position", "address": "ns=1;s=Structures.Position" },
                        { "name": "motors", "address": "ns=1;s=Structures.Motors" } ] } ] }
            """);
        var log = new ListLoggerProvider();
        await using var driver = (OpcUaDriver)new OpcUaDriverFactory().Create(config, section, new DriverContext(TimeProvider.System, LoggerFactory.Create(builder => builder.AddProvider(log))));
        var writer = new CollectingWriter();
        using var cts = new CancellationTokenSource();
        var run = driver.RunAsync(writer, cts.Token);
        bool Good(string tag) => writer.Samples.Any(s => s.Tag.Path == tag && s.Quality == Quality.Good);

        await OpcUaIntegrationTests.WaitUntilAsync(() => Good("motor") && Good("position") && Good("motors"));
        await cts.CancelAsync();
        await run;

        var motor = writer.Samples.First(s => s.Tag.Path == "motor" && s.Quality == Quality.Good).Value.AsStructure!;
        Assert.Equal("MotorData", motor.TypeName);
        Assert.Equal(["Speed", "Torque", "Label", "Running", "Mode", "Position", "Profile", "Note"], Enumerable.Range(0, motor.Count).Select(motor.NameAt));
        Assert.Equal(SampleValueKind.Float, motor["Speed"].Kind);
        Assert.Equal("{\"Torque\":-1234,\"Label\":\"Motor 1\",\"Running\":true,\"Mode\":2,\"Position\":{\"X\":1.5,\"Y\":-2.25},\"Profile\":[0.1,22.1,-0.5],\"Note\":\"checked\"}",
            motor.ToString().Replace("\"Speed\":" + motor["Speed"].ToString() + ",", "", StringComparison.Ordinal));
        Assert.Equal("{\"X\":3,\"Y\":4}", writer.Samples.First(s => s.Tag.Path == "position" && s.Quality == Quality.Good).Value.ToString());
        var motors = writer.Samples.First(s => s.Tag.Path == "motors" && s.Quality == Quality.Good).Value.AsArray!;
        Assert.Equal(3, motors.Length);
        Assert.Equal("Motor 3", motors[2].AsStructure!["Label"].AsString);
        Assert.Equal("MotorData(Speed:Float, Torque:Int16, Label:String, Running:Boolean, Mode:Int32, Position/X:Float, Position/Y:Float, Profile:Float[], Note:String)",
            driver.Tags[0].Structure!.ToString());
        Assert.Equal(SourceType.Structure, driver.Tags[0].SourceType);
        // One dictionary for the three DataTypes, read once, in chunks of 600 bytes.
        var read = Assert.Single(log.Lines, l => l.Message.Contains("DataTypeDictionary", StringComparison.Ordinal));
        Assert.Matches(@"ns=1;s=Dictionaries\.TestStructures \(\d+ bytes in 3 reads\)", read.Message);
        Assert.Contains("old-plc", read.Message, StringComparison.Ordinal);
        // No tag unusable, no definitions refused (a response discarded at the cancellation is the client's, not this).
        Assert.DoesNotContain(log.Lines, l => l.Level >= LogLevel.Warning && (l.Message.Contains("unusable", StringComparison.Ordinal) || l.Message.Contains("DataType", StringComparison.Ordinal)));
    }
}
