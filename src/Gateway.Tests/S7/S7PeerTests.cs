using Gateway.Drivers;
using Gateway.Drivers.S7;
using Xunit;

namespace Gateway.Tests.S7;

/// <summary>The S7 driver and client against snap7's server (tests/peers/s7/server.js), whose values are listed there.</summary>
public sealed class S7PeerTests(Snap7Fixture peer) : IClassFixture<Snap7Fixture>
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(3);

    /// <summary>Every type the driver reads, at the address server.js fills, with the value and kind expected.</summary>
    public static TheoryData<string, string?, string, SampleValueKind> EveryType() => new()
    {
        { "DB1.DBX0.0", null, "true", SampleValueKind.Boolean },
        { "DB1.DBX0.1", "bool", "false", SampleValueKind.Boolean },
        { "DB1.DBX0.2", null, "true", SampleValueKind.Boolean },
        { "DB1.DBB1", null, "171", SampleValueKind.UnsignedInteger },
        { "DB1.DBW2", "int", "-1234", SampleValueKind.Integer },
        { "DB1.DBW4", null, "48879", SampleValueKind.UnsignedInteger },
        { "DB1.DBD6", "dint", "-123456789", SampleValueKind.Integer },
        { "DB1.DBD10", "dword", "3735928559", SampleValueKind.UnsignedInteger },
        { "DB1.DBD14", "real", "22.1", SampleValueKind.Float },
        { "DB1.DBB18", "lreal", "3.141592653589793", SampleValueKind.Double },
        { "DB1.STRING26.20", null, "Hello S7", SampleValueKind.String },
        { "DB1.WSTRING48.10", "wstring", "Grüße", SampleValueKind.String },
        { "DB1.DBB72", "date_and_time", "2024-05-17T08:30:15.250", SampleValueKind.String },
        { "DB1.DBB80", "dtl", "2024-05-17T08:30:15.123456789", SampleValueKind.String },
        { "DB1.DBB92", "sint", "-5", SampleValueKind.Integer },
        { "DB1.DBB93", "usint", "200", SampleValueKind.UnsignedInteger },
        { "DB1.DBW94", "uint", "65000", SampleValueKind.UnsignedInteger },
        { "DB1.DBD96", "udint", "4000000000", SampleValueKind.UnsignedInteger },
        { "DB1.DBB100", "lint", "-9000000000000", SampleValueKind.Integer },
        { "DB1.DBB108", "ulint", "18000000000000000000", SampleValueKind.UnsignedInteger },
        { "M10.1", null, "true", SampleValueKind.Boolean },
        { "MW20", "int", "4242", SampleValueKind.Integer },
        { "MD24", "real", "1.5", SampleValueKind.Float },
        { "I0.0", null, "true", SampleValueKind.Boolean },
        { "E0.0", null, "true", SampleValueKind.Boolean },
        { "IW64", null, "1000", SampleValueKind.UnsignedInteger },
        { "Q0.1", null, "true", SampleValueKind.Boolean },
        { "A0.1", null, "true", SampleValueKind.Boolean },
        { "QW80", "int", "2000", SampleValueKind.Integer },
        { "T0", null, "10000", SampleValueKind.Integer },
        { "C0", null, "42", SampleValueKind.Integer },
        { "Z0", "counter", "42", SampleValueKind.Integer },
    };

    private static IEnumerable<(string, string, string?)> AllTags() =>
        EveryType().Select((row, i) => ($"t{i}", (string)row[0], (string?)row[1]));

    [Theory]
    [MemberData(nameof(EveryType))]
    public async Task Poll_ReadsEachTypeAsTheCpuStoresIt(string address, string? type, string expected, SampleValueKind kind)
    {
        await using var driver = S7DriverBuilder.Build(S7DriverBuilder.Json(peer.Port, [("tag", address, type)]));
        var samples = new S7Samples();

        await driver.PollAllOnceAsync(samples, CancellationToken.None);

        var sample = Assert.Single(samples.For("tag"));
        Assert.Equal(Quality.Good, sample.Quality);
        Assert.Equal(kind, sample.Value.Kind);
        Assert.Equal(expected, sample.Value.ToString());
    }

    [Fact]
    public async Task Poll_EveryTypeAtOnce_ReadsThemAllInOneRequest()
    {
        await using var driver = S7DriverBuilder.Build(S7DriverBuilder.Json(peer.Port, AllTags()));
        var samples = new S7Samples();
        await driver.PollAllOnceAsync(samples, CancellationToken.None);
        var before = driver.RequestCount;

        await driver.PollAllOnceAsync(samples, CancellationToken.None);

        // DB1 (one range of 116 bytes), M10-M27, I0 and IW64, Q0 and QW80 (64 and 80 bytes apart: more than maxGap),
        // T0 and C0: eight items, one job in a PDU of 480.
        Assert.Equal(1, driver.RequestCount - before);
        Assert.Equal(8, Assert.Single(driver.PlannedRequests).Items.Length);
        var rows = EveryType().ToList();
        for (var i = 0; i < rows.Count; i++)
        {
            var sample = samples.Last($"t{i}");
            Assert.Equal(Quality.Good, sample.Quality);
            Assert.Equal((string)rows[i][2], sample.Value.ToString());
        }
    }

    [Fact]
    public async Task Poll_DistantTagsOfOneDb_AreTwoRangesInOneRequest()
    {
        await using var driver = S7DriverBuilder.Build(S7DriverBuilder.Json(peer.Port, [("a", "DB2.DBW0", null), ("b", "DB2.DBW2", null), ("c", "DB2.DBW300", null)]));
        var samples = new S7Samples();

        await driver.PollAllOnceAsync(samples, CancellationToken.None);

        var request = Assert.Single(driver.PlannedRequests);
        Assert.Equal([new S7Item(S7Area.DataBlock, 2, 0, 4), new S7Item(S7Area.DataBlock, 2, 300, 2)], request.Items);
        Assert.Equal("2000", samples.Last("a").Value.ToString());
        Assert.Equal("2001", samples.Last("b").Value.ToString());
        Assert.Equal("2150", samples.Last("c").Value.ToString());
    }

    [Fact]
    public async Task Poll_MissingDb_TurnsOnlyItsTagsBadNotFound()
    {
        await using var driver = S7DriverBuilder.Build(S7DriverBuilder.Json(peer.Port, [("missing", "DB99.DBW0", null), ("present", "DB2.DBW0", null)]));
        var samples = new S7Samples();

        await driver.PollAllOnceAsync(samples, CancellationToken.None);
        await driver.PollAllOnceAsync(samples, CancellationToken.None);

        var missing = Assert.Single(samples.For("missing"));
        Assert.Equal(Quality.Bad, missing.Quality);
        Assert.Equal(S7StatusCodes.BadNotFound, missing.StatusCode);
        Assert.All(samples.For("present"), s => Assert.Equal(Quality.Good, s.Quality));
        Assert.Contains("Optimized block access", driver.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Poll_TagPastTheEndOfItsDb_IsBadOutOfRangeAndItsNeighbourGood()
    {
        // DB5 has 4 bytes: DBW0 exists, DBW10 does not; the two are coalesced until the CPU refuses the range.
        await using var driver = S7DriverBuilder.Build(S7DriverBuilder.Json(peer.Port, [("inside", "DB5.DBW0", null), ("past", "DB5.DBW10", null)]));
        var samples = new S7Samples();

        for (var i = 0; i < 3; i++)
        {
            await driver.PollAllOnceAsync(samples, CancellationToken.None);
        }

        Assert.Equal(Quality.Good, samples.Last("inside").Quality);
        var past = Assert.Single(samples.For("past"));
        Assert.Equal(S7StatusCodes.BadOutOfRange, past.StatusCode);
    }

    [Fact]
    public async Task Poll_SmallPdu_PacksThreeDbsIntoAsManyRequestsAsTheSizeNeeds()
    {
        await using var small = await Snap7Server.StartAsync("--pdu", "240");
        var tags = new List<(string, string, string?)>();
        foreach (var db in new[] { 2, 3, 4 })
        {
            for (var k = 0; k < 100; k++)
            {
                tags.Add(($"db{db}.w{k}", $"DB{db}.DBW{2 * k}", null));
            }
        }

        await using var driver = S7DriverBuilder.Build(S7DriverBuilder.Json(small.Port, tags, ",\"pduSize\":960"));
        var samples = new S7Samples();
        await driver.PollAllOnceAsync(samples, CancellationToken.None);
        var before = driver.RequestCount;

        await driver.PollAllOnceAsync(samples, CancellationToken.None);

        Assert.Equal(240, driver.PduSize);

        // Each DB is 200 bytes; a 240-byte answer carries 222 data bytes: one DB per job.
        Assert.Equal(3, driver.RequestCount - before);
        Assert.All(samples.Snapshot(), s => Assert.Equal(Quality.Good, s.Quality));
        Assert.Equal("3057", samples.Last("db3.w57").Value.ToString());
    }

    [Fact]
    public async Task Poll_StringLongerThanOnePdu_IsReadInParts()
    {
        await using var small = await Snap7Server.StartAsync("--pdu", "240");
        await using var driver = S7DriverBuilder.Build(S7DriverBuilder.Json(small.Port, [("long", "DB2.STRING0.254", null)]));
        var samples = new S7Samples();

        await driver.PollAllOnceAsync(samples, CancellationToken.None);

        Assert.Equal(2, Assert.Single(driver.PlannedRequests.SelectMany(r => r.Items).GroupBy(i => i.DbNumber)).Count());

        // DB2's first bytes are 0x07 0xD0 (2000): maximum 7, actual 208 > 7, so no valid S7 STRING.
        Assert.Equal(S7StatusCodes.BadDataEncodingInvalid, Assert.Single(samples.For("long")).StatusCode);
    }

    [Fact]
    public async Task Poll_CountsOneJobPerCycleOnTheServer()
    {
        await using var driver = S7DriverBuilder.Build(S7DriverBuilder.Json(peer.Port, [("a", "DB3.DBW0", null), ("b", "DB3.DBW4", null), ("c", "MW20", null)]));
        var samples = new S7Samples();
        await driver.PollAllOnceAsync(samples, CancellationToken.None);
        await Task.Delay(200);
        peer.Server.ClearOutput();

        await driver.PollAllOnceAsync(samples, CancellationToken.None);
        await Task.Delay(200);

        // Two items (DB3 bytes 0-5, MW20) in the one job: snap7 reports each item it served.
        Assert.Equal(2, peer.Server.ItemsRead());
    }

    [Fact]
    public async Task Write_ThenPoll_ReadsBackEachWrittenValue()
    {
        var json = S7DriverBuilder.Json(peer.Port, [], "").Replace("\"tags\":[]", """
            "tags":[
              {"name":"i","address":"DB4.DBW380","type":"int","writable":true},
              {"name":"r","address":"DB4.DBD382","type":"real","writable":true},
              {"name":"b","address":"DB4.DBX386.3","writable":true},
              {"name":"s","address":"DB4.STRING388.8","writable":true}]
            """, StringComparison.Ordinal);
        await using var driver = S7DriverBuilder.Build(json);
        var samples = new S7Samples();
        var tags = driver.Tags.ToDictionary(t => t.Path);

        await driver.WriteAsync(tags["i"], SampleValue.FromInteger(-321), CancellationToken.None);
        await driver.WriteAsync(tags["r"], SampleValue.FromDouble(12.5), CancellationToken.None);
        await driver.WriteAsync(tags["b"], SampleValue.FromBoolean(true), CancellationToken.None);
        await driver.WriteAsync(tags["s"], SampleValue.FromString("Line 3"), CancellationToken.None);
        await driver.PollAllOnceAsync(samples, CancellationToken.None);

        Assert.Equal("-321", samples.Last("i").Value.ToString());
        Assert.Equal("12.5", samples.Last("r").Value.ToString());
        Assert.Equal("true", samples.Last("b").Value.ToString());
        Assert.Equal("Line 3", samples.Last("s").Value.ToString());
    }

    [Fact]
    public async Task Client_NegotiatesThePduSizeItAsked()
    {
        await using var client = new S7Client(new S7IsoTransport("127.0.0.1", peer.Port, 0x0100, S7Wire.RemoteTsap(0, 1)), TimeProvider.System, 720);

        var size = await client.ConnectAsync(s_timeout, CancellationToken.None);

        Assert.Equal(720, size);
    }
}

/// <summary>A snap7 server killed and started again under a running driver.</summary>
public sealed class S7RestartTests
{
    [Fact]
    public async Task Run_ServerRestart_TagsTurnBadOnceThenGoodAgain()
    {
        await using var server = await Snap7Server.StartAsync();
        await using var driver = S7DriverBuilder.Build(S7DriverBuilder.Json(server.Port, [("w", "DB2.DBW2", null), ("m", "MW20", null)], ",\"intervalMs\":100,\"backoffMinMs\":50,\"backoffMaxMs\":200"));
        var samples = new S7Samples();
        using var stop = new CancellationTokenSource();
        var run = driver.RunAsync(samples, stop.Token);
        await samples.WaitForAsync(s => s.For("w").Count > 0, TimeSpan.FromSeconds(10), "a first value");

        await server.KillAsync();
        await samples.WaitForAsync(s => s.For("w").Any(x => x.Quality == Quality.Bad), TimeSpan.FromSeconds(10), "a Bad sample");
        await Task.Delay(1000); // several failed retries while the CPU is away
        await server.RestartAsync();
        await samples.WaitForAsync(s => s.Last("w").Quality == Quality.Good && s.Last("m").Quality == Quality.Good, TimeSpan.FromSeconds(15), "Good again");
        stop.Cancel();
        await run;

        foreach (var name in new[] { "w", "m" })
        {
            var bad = samples.For(name).Where(s => s.Quality == Quality.Bad).ToList();
            Assert.Single(bad);
            Assert.Contains(bad[0].StatusCode, new[] { S7StatusCodes.BadCommunicationError, S7StatusCodes.BadNotConnected, S7StatusCodes.BadNoCommunication });
        }

        Assert.Equal("2001", samples.Last("w").Value.ToString());
    }
}
