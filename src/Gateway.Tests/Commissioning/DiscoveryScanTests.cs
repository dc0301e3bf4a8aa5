using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Commissioning;
using Gateway.Drivers.S7;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Modbus;
using Gateway.Tests.S7;

namespace Gateway.Tests.Commissioning;

/// <summary>Issue 16: the page's S7 DB scan against the real snap7 server (tests/peers/s7/server.js).</summary>
public sealed class S7ScanTests(Snap7Fixture peer) : IClassFixture<Snap7Fixture>
{
    [Fact]
    public async Task S7Scan_Db1_ShowsEachOffsetInEveryInterpretation_WithTheDriversAddress()
    {
        var scan = await ScanAsync(Driver(peer.Port), db: 1, start: 0, length: 48);

        Assert.Equal(48, scan.GetProperty("rows").GetArrayLength());
        Assert.Equal("true", Reading(scan, 0, "bool", "DB1.DBX0.0"));
        Assert.Equal("false", Reading(scan, 0, "bool", "DB1.DBX0.1"));
        Assert.Equal("true", Reading(scan, 0, "bool", "DB1.DBX0.2"));
        Assert.Equal("171", Reading(scan, 1, "byte", "DB1.DBB1"));
        Assert.Equal("-1234", Reading(scan, 2, "int", "DB1.DBW2"));
        Assert.Equal("48879", Reading(scan, 4, "word", "DB1.DBW4"));
        Assert.Equal("-123456789", Reading(scan, 6, "dint", "DB1.DBD6"));
        Assert.Equal("3735928559", Reading(scan, 10, "dword", "DB1.DBD10"));
        Assert.Equal("22.1", Reading(scan, 14, "real", "DB1.DBD14"));
        Assert.Equal("Hello S7", Reading(scan, 26, "string", "DB1.STRING26.20"));
        Assert.Equal("AB", Row(scan, 1).GetProperty("hex").GetString());
        Assert.Equal("10101011", Row(scan, 1).GetProperty("bits").GetString());

        // The last offsets carry only what fits in the bytes read; no STRING where the header does not look like one.
        Assert.DoesNotContain(Readings(scan, 47), r => r.Type is "word" or "dword");
        Assert.DoesNotContain(Readings(scan, 14), r => r.Type == "string");
    }

    [Fact]
    public async Task S7Scan_CpuGrants240BytePdu_ReadIsSplitIntoSeveralJobs_AllBytesArrive()
    {
        await using var small = await Snap7Server.StartAsync("--pdu", "240", "--trace");
        small.ClearOutput();

        var scan = await ScanAsync(Driver(small.Port), db: 2, start: 0, length: 400);

        Assert.Equal(240, scan.GetProperty("pduSize").GetInt32());
        Assert.True(scan.GetProperty("jobs").GetInt64() >= 2, scan.GetProperty("jobs").ToString());
        await Eventually.TrueAsync(() => Task.FromResult(small.ItemsRead() >= 2), () => "the server's trace: " + small.Output, TimeSpan.FromSeconds(10), poll: TimeSpan.FromMilliseconds(50));
        Assert.Equal("2000", Reading(scan, 0, "word", "DB2.DBW0"));
        Assert.Equal("2199", Reading(scan, 398, "word", "DB2.DBW398"));
        Assert.Equal("2110", Reading(scan, 220, "word", "DB2.DBW220"));
    }

    [Fact]
    public async Task S7Scan_MissingDbOrBytesPastItsEnd_TheCpusRefusalNamesTheBytes_BadInputIsAClearError()
    {
        var missing = await Assert.ThrowsAsync<S7Exception>(() => DiscoveryApi.S7ScanAsync(Driver(peer.Port), 9, 0, 4, CancellationToken.None));
        Assert.Contains("DB9 bytes 0-3", missing.Message, StringComparison.Ordinal);
        var past = await Assert.ThrowsAsync<S7Exception>(() => DiscoveryApi.S7ScanAsync(Driver(peer.Port), 5, 0, 16, CancellationToken.None));
        Assert.Contains("DB5", past.Message, StringComparison.Ordinal);

        var noDb = await Assert.ThrowsAsync<ArgumentException>(() => DiscoveryApi.S7ScanAsync(Driver(peer.Port), null, 0, 4, CancellationToken.None));
        Assert.StartsWith("db:", noDb.Message, StringComparison.Ordinal);
        var tooLong = await Assert.ThrowsAsync<ArgumentException>(() => DiscoveryApi.S7ScanAsync(Driver(peer.Port), 1, 0, 5000, CancellationToken.None));
        Assert.Contains("4096", tooLong.Message, StringComparison.Ordinal);
        var noHost = await Assert.ThrowsAsync<ArgumentException>(() => DiscoveryApi.S7ScanAsync(new JsonObject { ["type"] = "s7" }, 1, 0, 4, CancellationToken.None));
        Assert.StartsWith("host:", noHost.Message, StringComparison.Ordinal);
    }

    internal static JsonObject Driver(int port) => new() { ["name"] = "plc", ["type"] = "s7", ["host"] = "127.0.0.1", ["port"] = port, ["rack"] = 0, ["slot"] = 1, ["timeoutMs"] = 3000 };

    private static async Task<JsonElement> ScanAsync(JsonObject driver, int db, int start, int length) =>
        JsonSerializer.SerializeToElement(await DiscoveryApi.S7ScanAsync(driver, db, start, length, CancellationToken.None), JsonSerializerOptions.Web);

    private static JsonElement Row(JsonElement scan, int offset) => scan.GetProperty("rows").EnumerateArray().Single(r => r.GetProperty("offset").GetInt32() == offset);

    private static List<(string Type, string Address, string Value)> Readings(JsonElement scan, int offset) =>
        [.. Row(scan, offset).GetProperty("readings").EnumerateArray().Select(r => (r.GetProperty("type").GetString()!, r.GetProperty("address").GetString()!, r.GetProperty("value").GetString()!))];

    private static string Reading(JsonElement scan, int offset, string type, string address) =>
        Readings(scan, offset).Single(r => r.Type == type && r.Address == address).Value;
}

/// <summary>Issue 16: the page's unit-id scan against pymodbus serving several unit ids (tests/peers/modbus_variants.py), then a scan of the unit chosen.</summary>
public sealed class ModbusUnitScanTests(LimitedSparseDeviceFixture tcp, OneBasedRtuLineFixture rtuLine) : IClassFixture<LimitedSparseDeviceFixture>, IClassFixture<OneBasedRtuLineFixture>
{
    [Fact]
    public async Task UnitScan_TcpGatewayServingUnits1And17_FindsExactlyThose_ThenScansUnit17()
    {
        var driver = new JsonObject { ["name"] = "plc", ["type"] = "modbus-tcp", ["host"] = "127.0.0.1", ["port"] = tcp.Port, ["unitId"] = 1 };

        var found = JsonSerializer.SerializeToElement(await DiscoveryApi.ModbusUnitsAsync(driver, "1-20", 200, CancellationToken.None), JsonSerializerOptions.Web);

        Assert.Equal([1, 17], found.GetProperty("units").EnumerateArray().Select(u => u.GetProperty("unit").GetInt32()));
        Assert.Equal([1, 17], found.GetProperty("units").EnumerateArray().Select(u => u.GetProperty("value").GetInt32())); // HR0 holds the unit id
        var scan = JsonSerializer.SerializeToElement(await DiscoveryApi.ModbusScanAsync(driver, "holding:0-1", 17, CancellationToken.None), JsonSerializerOptions.Web);
        Assert.Equal(17, scan.GetProperty("unit").GetInt32());
        Assert.Equal(17, scan.GetProperty("ranges")[0].GetProperty("rows")[0].GetProperty("u16").GetInt32());
    }

    [Fact]
    public async Task UnitScan_RtuLineOverTcp_FindsUnits3And4()
    {
        var driver = new JsonObject { ["name"] = "line", ["type"] = "modbus-tcp", ["host"] = "127.0.0.1", ["port"] = rtuLine.Port, ["rtuOverTcp"] = true };

        var found = JsonSerializer.SerializeToElement(await DiscoveryApi.ModbusUnitsAsync(driver, "1-6", 200, CancellationToken.None), JsonSerializerOptions.Web);

        Assert.Equal([3, 4], found.GetProperty("units").EnumerateArray().Select(u => u.GetProperty("unit").GetInt32()));
    }

    [Fact]
    public async Task UnitScan_BadRangeOrAScanLongerThanTheCall_IsRefusedBeforeAnyRequest()
    {
        var driver = new JsonObject { ["type"] = "modbus-tcp", ["host"] = "127.0.0.1", ["port"] = tcp.Port };

        var range = await Assert.ThrowsAsync<ArgumentException>(() => DiscoveryApi.ModbusUnitsAsync(driver, "0-300", null, CancellationToken.None));
        Assert.Contains("between 1 and 247", range.Message, StringComparison.Ordinal);
        var slow = await Assert.ThrowsAsync<ArgumentException>(() => DiscoveryApi.ModbusUnitsAsync(driver, "1-247", 1000, CancellationToken.None));
        Assert.Contains("narrow the units or shorten the timeout", slow.Message, StringComparison.Ordinal);
    }
}
