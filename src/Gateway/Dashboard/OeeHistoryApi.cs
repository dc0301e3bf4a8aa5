using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Gateway.Configuration;
using Gateway.Oee;
using Microsoft.Extensions.Options;

namespace Gateway.Dashboard;

/// <summary>
/// <c>GET /api/oee/history?from=&amp;to=&amp;by=hour|shift|day|total[&amp;machine=][&amp;format=json|csv]</c>: the OEE history
/// (<see cref="OeeHistory"/>), as JSON or CSV (<c>format=csv</c> or <c>Accept: text/csv</c>), every time on the
/// plant's clock with its offset. <c>from</c> and <c>to</c> are a plant date (<c>2026-11-26</c>: its midnight), a plant
/// time (<c>2026-11-26T06:00</c>) or an instant with an offset; the defaults are the last 7 days up to now. A period is
/// in the answer when it starts in [from, to). Bad parameters: 400 with <c>{"error": "&lt;parameter&gt;: &lt;reason&gt;"}</c>.
/// </summary>
internal static partial class OeeHistoryApi
{
    /// <summary>The longest range one request may ask for.</summary>
    public static readonly TimeSpan MaxRange = TimeSpan.FromDays(400);

    // Relaxed escaping, so that a time reads +01:00 with curl (served as application/json with nosniff, never as HTML).
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web) { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Maps <c>/api/oee/history</c> and <c>/api/oee/history.csv</c> (the same, always CSV).</summary>
    public static void MapOeeHistory(this WebApplication app)
    {
        app.MapGet("/api/oee/history", (HttpContext context, IOptions<GatewayConfig> config, TimeProvider time, IServiceProvider services) => Serve(context, config.Value, time, services, csv: false));
        app.MapGet("/api/oee/history.csv", (HttpContext context, IOptions<GatewayConfig> config, TimeProvider time, IServiceProvider services) => Serve(context, config.Value, time, services, csv: true));
    }

    private static IResult Serve(HttpContext context, GatewayConfig config, TimeProvider time, IServiceProvider services, bool csv)
    {
        var query = context.Request.Query.ToDictionary(q => q.Key, q => q.Value.ToString(), StringComparer.Ordinal);
        if (csv)
        {
            query["format"] = "csv";
        }

        var answer = Answer(services.GetService<OeeHistory>(), config.Oee, query, context.Request.Headers.Accept.ToString(), time.GetUtcNow());
        if (answer.FileName is { } file)
        {
            context.Response.Headers.ContentDisposition = "inline; filename=\"" + file + "\"";
        }

        return Results.Text(answer.Body, answer.ContentType, Encoding.UTF8, answer.Status);
    }

    /// <summary>The answer to one request: status, content type, body, and for CSV a file name.</summary>
    public static HistoryAnswer Answer(OeeHistory? history, OeeOptions? oee, IReadOnlyDictionary<string, string> query, string? accept, DateTimeOffset now)
    {
        if (history is null || oee is null)
        {
            return Error(StatusCodes.Status404NotFound, "no oee section in the configuration: there is no OEE history");
        }

        var plant = PlantTime.For(oee);
        if (!TryTime(query, "to", plant, now, out var to, out var error) || !TryTime(query, "from", plant, to - TimeSpan.FromDays(7), out var from, out error))
        {
            return Error(StatusCodes.Status400BadRequest, error!);
        }

        if (to <= from)
        {
            return Error(StatusCodes.Status400BadRequest, $"to: {Plant(plant, to)} is not after from ({Plant(plant, from)})");
        }

        if (to - from > MaxRange)
        {
            return Error(StatusCodes.Status400BadRequest, $"to: at most {MaxRange.TotalDays:F0} days after from");
        }

        var byText = query.GetValueOrDefault("by") is { Length: > 0 } b ? b : "hour";
        if (!Enum.TryParse<OeeHistoryGrouping>(byText, ignoreCase: true, out var by) || !Enum.IsDefined(by) || int.TryParse(byText, out _))
        {
            return Error(StatusCodes.Status400BadRequest, $"by: '{byText}' is not one of hour, shift, day, total");
        }

        var machine = query.GetValueOrDefault("machine") is { Length: > 0 } m ? m : null;
        if (machine is not null && !oee.Machines.Any(x => string.Equals(x.Name, machine, StringComparison.Ordinal)))
        {
            return Error(StatusCodes.Status400BadRequest, $"machine: no machine '{machine}' in oee.machines ({string.Join(", ", oee.Machines.Select(x => x.Name))})");
        }

        var format = query.GetValueOrDefault("format") is { Length: > 0 } f ? f.ToLowerInvariant() : accept?.Contains("text/csv", StringComparison.OrdinalIgnoreCase) == true ? "csv" : "json";
        if (format is not ("json" or "csv"))
        {
            return Error(StatusCodes.Status400BadRequest, $"format: '{format}' is not one of json, csv");
        }

        var entries = OeeHistoryQuery.Read(history, plant, by, from, to, machine);
        var name = by.ToString().ToLowerInvariant();
        return format == "csv"
            ? new HistoryAnswer(StatusCodes.Status200OK, "text/csv", Csv(entries, plant, name), $"oee-history-{name}.csv")
            : new HistoryAnswer(StatusCodes.Status200OK, "application/json", Json(entries, plant, name, from, to, now), null);
    }

    private static string Json(List<OeeHistoryEntry> entries, PlantTime plant, string by, DateTimeOffset from, DateTimeOffset to, DateTimeOffset now)
    {
        var periods = new JsonArray();
        foreach (var entry in entries)
        {
            var period = entry.Period with { Start = plant.Local(entry.Period.Start), End = plant.Local(entry.Period.End) };
            var node = JsonSerializer.SerializeToNode(period, GatewayJsonContext.Relaxed.OeePeriod)!.AsObject();
            node.Insert(0, "machine", entry.Machine);
            node.Insert(1, "complete", entry.Complete);
            node["topDowntimeReasons"] = JsonSerializer.SerializeToNode(entry.TopReasons, GatewayJsonContext.Relaxed.IReadOnlyListOeeDowntimeReason);
            periods.Add((JsonNode)node);
        }

        var document = new JsonObject
        {
            ["timeZone"] = plant.TimeZone,
            ["by"] = by,
            ["from"] = plant.Local(from),
            ["to"] = plant.Local(to),
            ["generatedAt"] = plant.Local(now),
            ["periods"] = periods,
        };
        return document.ToJsonString(s_json);
    }

    /// <summary>One line per period; ratios 0..1 (empty when undefined), seconds, counts; the top reasons as <c>reason=seconds×count</c> joined by <c>; </c>.</summary>
    private static string Csv(List<OeeHistoryEntry> entries, PlantTime plant, string by)
    {
        var csv = new StringBuilder();
        csv.Append("machine,by,name,start,end,complete,oee,availability,performance,quality,runSeconds,plannedSeconds,downtimeSeconds,plannedStopSeconds,unknownSeconds,")
            .Append("totalCount,goodCount,rejectCount,breakdownSeconds,setupSeconds,microStopSeconds,idleSeconds,reducedSpeedSeconds,startupRejectCount,productionRejectCount,topDowntimeReasons\r\n");
        foreach (var entry in entries)
        {
            var p = entry.Period;
            var l = p.Losses;
            var reasons = string.Join("; ", entry.TopReasons.Select(r => r.Reason + "=" + Number(r.Seconds) + "s×" + r.Count.ToString(CultureInfo.InvariantCulture)));
            string[] fields =
            [
                entry.Machine, by, p.Name, Plant(plant, p.Start), Plant(plant, p.End), entry.Complete ? "true" : "false",
                Ratio(p.Oee), Ratio(p.Availability), Ratio(p.Performance), Ratio(p.Quality),
                Number(p.RunSeconds), Number(p.PlannedSeconds), Number(p.DowntimeSeconds), Number(p.PlannedStopSeconds), Number(p.UnknownSeconds),
                Count(p.TotalCount), Count(p.GoodCount), Count(p.RejectCount),
                Number(l.BreakdownSeconds), Number(l.SetupSeconds), Number(l.MicroStopSeconds), Number(l.IdleSeconds), Number(l.ReducedSpeedSeconds),
                Count(l.StartupRejectCount), Count(l.ProductionRejectCount), reasons,
            ];
            csv.AppendJoin(',', fields.Select(Field)).Append("\r\n");
        }

        return csv.ToString();
    }

    private static bool TryTime(IReadOnlyDictionary<string, string> query, string key, PlantTime plant, DateTimeOffset fallback, out DateTimeOffset value, out string? error)
    {
        error = null;
        value = fallback;
        if (query.GetValueOrDefault(key) is not { Length: > 0 } text)
        {
            return true;
        }

        text = text.Trim();
        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            value = plant.AtLocal(date, TimeOnly.MinValue);
            return true;
        }

        if (WithOffset().IsMatch(text) && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var instant))
        {
            value = instant.ToUniversalTime();
            return true;
        }

        if (!WithOffset().IsMatch(text) && DateTime.TryParseExact(text, ["yyyy-MM-ddTHH:mm", "yyyy-MM-ddTHH:mm:ss"], CultureInfo.InvariantCulture, DateTimeStyles.None, out var local))
        {
            value = plant.AtLocal(DateOnly.FromDateTime(local), TimeOnly.FromDateTime(local));
            return true;
        }

        error = $"{key}: '{text}' is not a plant date (2026-11-26), a plant time (2026-11-26T06:00) or an instant with an offset (2026-11-26T06:00:00+01:00)";
        return false;
    }

    private static string Plant(PlantTime plant, DateTimeOffset at) => plant.Local(at).ToString("yyyy-MM-ddTHH:mm:sszzz", CultureInfo.InvariantCulture);

    private static string Ratio(double? value) => value is { } v ? Math.Round(v, 6).ToString("R", CultureInfo.InvariantCulture) : "";

    private static string Number(double value) => Math.Round(value, 3).ToString("R", CultureInfo.InvariantCulture);

    private static string Count(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Field(string value) =>
        value.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;

    private static HistoryAnswer Error(int status, string reason) =>
        new(status, "application/json", JsonSerializer.Serialize(new ApiError(reason), GatewayJsonContext.Relaxed.ApiError), null);

    [GeneratedRegex(@"(Z|[+-]\d{2}:?\d{2})$", RegexOptions.IgnoreCase)]
    private static partial Regex WithOffset();
}

/// <summary>What <see cref="OeeHistoryApi.Answer"/> returns.</summary>
internal sealed record HistoryAnswer(int Status, string ContentType, string Body, string? FileName);
