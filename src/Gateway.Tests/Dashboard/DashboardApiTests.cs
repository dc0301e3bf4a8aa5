using System.Net.Http.Headers;
using System.Text.Json;

namespace Gateway.Tests.Dashboard;

/// <summary>The JSON API and the event stream, read directly (no browser).</summary>
[Collection(nameof(DashboardCollection))]
public sealed class DashboardApiTests(OpenDashboardFixture fixture)
{
    private static readonly string[] s_states = ["running", "idle", "down", "setup", "planned-stop", "unknown"];
    private readonly DashboardGateway _gateway = fixture.Gateway;

    [Fact]
    public async Task ApiOee_ReportsEveryMachine_WithRatiosAndCountsThatAddUp()
    {
        using var http = new HttpClient { BaseAddress = _gateway.BaseUri };
        JsonElement machines = default;
        // The first parts arrive within a second or two; wait until every machine has counted some.
        for (var attempt = 0; attempt < 40; attempt++)
        {
            using var document = JsonDocument.Parse(await http.GetStringAsync(new Uri("/api/oee", UriKind.Relative)));
            machines = document.RootElement.GetProperty("machines").Clone();
            Assert.Equal(0, document.RootElement.GetProperty("problems").GetArrayLength());
            if (machines.EnumerateArray().All(m => m.GetProperty("currentShift").ValueKind == JsonValueKind.Object && m.GetProperty("currentShift").GetProperty("totalCount").GetInt64() > 0))
            {
                break;
            }

            await Task.Delay(500);
        }

        Assert.Equal(["press", "welder", "assembly"], machines.EnumerateArray().Select(m => m.GetProperty("name").GetString()));
        foreach (var machine in machines.EnumerateArray())
        {
            Assert.Contains(machine.GetProperty("state").GetString(), s_states);
            var shift = machine.GetProperty("currentShift");
            Assert.Equal("A", shift.GetProperty("name").GetString());
            var total = shift.GetProperty("totalCount").GetInt64();
            var good = shift.GetProperty("goodCount").GetInt64();
            var reject = shift.GetProperty("rejectCount").GetInt64();
            Assert.True(total > 0, $"{machine.GetProperty("name")} counted no part");
            Assert.Equal(total, good + reject);
            foreach (var ratio in new[] { "availability", "quality" })
            {
                var value = shift.GetProperty(ratio);
                Assert.True(value.ValueKind == JsonValueKind.Null || value.GetDouble() is >= 0 and <= 1, $"{ratio} = {value}");
            }

            // Performance may exceed 1 a little (a cycle counted just before the run time was cut), never by much; OEE is
            // A x P x Q, so it may exceed 1 only as far as P does.
            var performance = shift.GetProperty("performance");
            Assert.True(performance.ValueKind == JsonValueKind.Null || performance.GetDouble() is >= 0 and <= 1.5, $"performance = {performance}");
            var oee = shift.GetProperty("oee");
            var oeeBound = performance.ValueKind == JsonValueKind.Number ? Math.Max(1, performance.GetDouble()) : 1;
            Assert.True(oee.ValueKind == JsonValueKind.Null || (oee.GetDouble() >= 0 && oee.GetDouble() <= oeeBound + 1e-9), $"oee = {oee}, performance = {performance}");
            Assert.True(shift.GetProperty("runSeconds").GetDouble() <= shift.GetProperty("plannedSeconds").GetDouble() + 2);
            Assert.True(machine.GetProperty("timeline").GetArrayLength() > 0);
            foreach (var entry in machine.GetProperty("timeline").EnumerateArray())
            {
                Assert.Contains(entry.GetProperty("state").GetString(), s_states);
                Assert.True(entry.GetProperty("start").GetDateTimeOffset() <= entry.GetProperty("end").GetDateTimeOffset());
            }

            Assert.Equal(JsonValueKind.Array, machine.GetProperty("topDowntimeReasons").ValueKind);
            Assert.Equal("last-hour", machine.GetProperty("lastHour").GetProperty("name").GetString());
        }
    }

    [Fact]
    public async Task ApiTags_ListsEveryTag_WithTypedValuesQualityAndUnits()
    {
        using var http = new HttpClient { BaseAddress = _gateway.BaseUri };
        using var document = JsonDocument.Parse(await http.GetStringAsync(new Uri("/api/tags", UriKind.Relative)));
        var tags = document.RootElement.EnumerateArray().ToDictionary(t => t.GetProperty("tag").GetString()!);

        Assert.True(tags.Count >= 24, $"{tags.Count} tags");
        foreach (var (key, tag) in tags)
        {
            Assert.Equal(key, tag.GetProperty("machine").GetString() + "/" + tag.GetProperty("path").GetString());
            Assert.Contains(tag.GetProperty("quality").GetString(), new[] { "Good", "Uncertain", "Bad" });
            Assert.True(tag.GetProperty("timestamp").GetDateTimeOffset() > DateTimeOffset.UnixEpoch);
        }

        var count = tags["press/total-count"];
        Assert.Equal(JsonValueKind.Number, count.GetProperty("value").ValueKind);
        Assert.True(count.GetProperty("value").GetInt64() >= 0);
        Assert.Equal("parts", count.GetProperty("unit").GetString());
        var temperature = tags["welder/temperature"];
        Assert.InRange(temperature.GetProperty("value").GetDouble(), 0, 200);
        Assert.Equal("degC", temperature.GetProperty("unit").GetString());
        // Every value the simulated machine can report (MachineStateNames): it does go into planned stop now and then.
        Assert.Contains(tags["press/state"].GetProperty("value").GetString(), new[] { "running", "idle", "down", "planned-stop" });
        Assert.Contains(tags["press/running"].GetProperty("value").ValueKind, new[] { JsonValueKind.True, JsonValueKind.False });
    }

    [Fact]
    public async Task Stream_SendsTagsThenOeeAndHealth_AsServerSentEvents()
    {
        using var http = new HttpClient { BaseAddress = _gateway.BaseUri, Timeout = TimeSpan.FromSeconds(30) };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/stream");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));

        var events = new List<(string Name, JsonElement Data)>();
        string? name = null;
        while (events.Count(e => e.Name == "tags") < 3 || !events.Any(e => e.Name == "oee") || !events.Any(e => e.Name == "status"))
        {
            var line = await reader.ReadLineAsync(timeout.Token);
            Assert.NotNull(line);
            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                name = line["event: ".Length..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                events.Add((name!, JsonDocument.Parse(line["data: ".Length..]).RootElement.Clone()));
            }
        }

        // The first tags event is the full table; later ones carry only what changed.
        var tags = events.Where(e => e.Name == "tags").ToList();
        Assert.True(tags[0].Data.GetProperty("full").GetBoolean());
        Assert.True(tags[0].Data.GetProperty("tags").GetArrayLength() >= 24);
        Assert.False(tags[1].Data.GetProperty("full").GetBoolean());
        // A delta holds each changed tag once (its latest value), never more than the whole table.
        var delta = tags[1].Data.GetProperty("tags").EnumerateArray().Select(t => t.GetProperty("tag").GetString()).ToList();
        Assert.InRange(delta.Count, 1, tags[0].Data.GetProperty("tags").GetArrayLength());
        Assert.Equal(delta.Count, delta.Distinct().Count());
        Assert.Equal(3, events.First(e => e.Name == "oee").Data.GetProperty("machines").GetArrayLength());
        Assert.True(events.First(e => e.Name == "status").Data.GetProperty("mqtt").GetProperty("connected").GetBoolean());
    }

    [Fact]
    public async Task WithoutPassword_EverythingIsOpen_AndHealthzAndMetricsAnswer()
    {
        using var http = new HttpClient { BaseAddress = _gateway.BaseUri };
        foreach (var path in new[] { "/", "/api/status", "/api/tags", "/api/oee", "/healthz", "/metrics", "/assets/app.js", "/assets/app.css" })
        {
            using var response = await http.GetAsync(new Uri(path, UriKind.Relative));
            Assert.True(response.IsSuccessStatusCode, $"{path}: {response.StatusCode}");
        }

        using var page = await http.GetAsync(new Uri("/", UriKind.Relative));
        Assert.Contains("default-src 'self'", page.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.Equal("nosniff", page.Headers.GetValues("X-Content-Type-Options").Single());
    }
}
