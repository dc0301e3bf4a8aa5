using System.CommandLine;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using Gateway.Dashboard;
using Gateway.Drills;

namespace Gateway.Cli;

/// <summary>
/// <c>gateway drill outage [--seconds N]</c> and <c>gateway drill plc --machine M [--seconds N]</c>: a trainer's fault
/// drill on the running gateway, through its HTTP API (<c>POST /api/drill/...</c>, with the dashboard password as a
/// bearer token when one is set). The verb follows the drill once a second (link, buffer, seconds left) until it is
/// over and, for an outage, until the outputs reconnected and drained what piled up; Ctrl+C ends the drill early.
/// Exit codes: 0 done, 1 refused or failed (no gateway, wrong password, already running), 2 usage.
/// </summary>
internal static class DrillCommand
{
    public const string DefaultUrl = "http://127.0.0.1:8080";

    /// <summary>How long the verb waits, after an outage drill, for the outputs to reconnect and drain.</summary>
    private static readonly TimeSpan s_drainTimeout = TimeSpan.FromMinutes(2);

    public static Command Create()
    {
        var command = new Command("drill", "A trainer's fault drill on the running gateway: cut the north link (outage) or make a simulated PLC stop answering (plc), for N seconds.");
        command.Subcommands.Add(CreateOutage());
        command.Subcommands.Add(CreatePlc());
        return command;
    }

    private static Command CreateOutage()
    {
        var common = new CommonOptions();
        var command = new Command("outage", "Cut the gateway's north link for N seconds (the outputs drop their connection; the broker is not touched): the buffer fills, then the outputs reconnect and drain it.");
        common.AddTo(command);
        command.SetAction((parseResult, cancellationToken) => RunAsync(parseResult, common, null, cancellationToken));
        return command;
    }

    private static Command CreatePlc()
    {
        var common = new CommonOptions();
        var machine = new Option<string>("--machine") { Description = "The simulated machine whose PLC stops answering (its tags go Bad)", Required = true };
        var command = new Command("plc", "Make a simulated machine's PLC stop answering for N seconds: its tags go Bad, its OEE marks that time unknown, then it answers again.") { machine };
        common.AddTo(command);
        command.SetAction((parseResult, cancellationToken) => RunAsync(parseResult, common, parseResult.GetValue(machine), cancellationToken));
        return command;
    }

    private sealed class CommonOptions
    {
        public Option<int> Seconds { get; } = new("--seconds") { Description = $"How long the drill lasts, 1-{TrainerDrills.MaxSeconds} s", DefaultValueFactory = _ => TrainerDrills.DefaultSeconds };

        public Option<string> Url { get; } = new("--url") { Description = "The running gateway's dashboard address (http.urls)", DefaultValueFactory = _ => DefaultUrl };

        public Option<FileInfo?> PasswordFile { get; } = new("--password-file") { Description = "The dashboard password file (http.passwordFile), when the gateway has one" };

        public Option<bool> End { get; } = new("--end") { Description = "End the running drill now instead of starting one" };

        public Option<bool> NoWait { get; } = new("--no-wait") { Description = "Start the drill and return at once, without following it" };

        public void AddTo(Command command)
        {
            command.Options.Add(Seconds);
            command.Options.Add(Url);
            command.Options.Add(PasswordFile);
            command.Options.Add(End);
            command.Options.Add(NoWait);
        }
    }

    private static async Task<int> RunAsync(ParseResult parseResult, CommonOptions options, string? machine, CancellationToken cancellationToken)
    {
        var seconds = parseResult.GetValue(options.Seconds);
        var url = parseResult.GetValue(options.Url)!;
        var verb = machine is null ? "drill outage" : "drill plc";
        if (seconds is < 1 or > TrainerDrills.MaxSeconds)
        {
            await Console.Error.WriteLineAsync($"{verb}: --seconds must be 1-{TrainerDrills.MaxSeconds}, got {seconds}");
            return ExitCodes.UsageOrConfiguration;
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out var baseUri) || baseUri.Scheme is not ("http" or "https"))
        {
            await Console.Error.WriteLineAsync($"{verb}: --url must be http(s)://HOST:PORT (for example {DefaultUrl}), got '{url}'");
            return ExitCodes.UsageOrConfiguration;
        }

        using var http = new HttpClient { BaseAddress = baseUri, Timeout = TimeSpan.FromSeconds(10) };
        if (parseResult.GetValue(options.PasswordFile) is { } file)
        {
            string password;
            try
            {
                password = DashboardAuth.ReadPassword(file.FullName);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException)
            {
                await Console.Error.WriteLineAsync($"{verb}: --password-file {file.FullName}: {ex.Message}");
                return ExitCodes.UsageOrConfiguration;
            }

            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", password);
        }

        var query = machine is null ? "" : "machine=" + Uri.EscapeDataString(machine) + "&";
        var path = machine is null ? "/api/drill/outage" : "/api/drill/plc";
        var end = parseResult.GetValue(options.End);
        var answer = await PostAsync(http, verb, end ? $"{path}/end?{query}" : $"{path}?{query}seconds={seconds.ToString(CultureInfo.InvariantCulture)}", CancellationToken.None);
        if (answer is null)
        {
            return ExitCodes.RuntimeFailure;
        }

        Console.WriteLine(answer.Value.Message);
        if (!answer.Value.Ok)
        {
            return ExitCodes.RuntimeFailure;
        }

        if (end || parseResult.GetValue(options.NoWait))
        {
            return ExitCodes.Success;
        }

        try
        {
            return machine is null ? await FollowOutageAsync(http, cancellationToken) : await FollowPlcAsync(http, machine, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl+C: the room has seen enough; end the drill rather than leave it running unattended.
            var ended = await PostAsync(http, verb, $"{path}/end?{query}", CancellationToken.None);
            Console.WriteLine(ended?.Message ?? "the drill could not be ended: it ends by itself at its time");
            return ended?.Ok == true ? ExitCodes.Success : ExitCodes.RuntimeFailure;
        }
    }

    private static async Task<int> FollowOutageAsync(HttpClient http, CancellationToken cancellationToken)
    {
        var time = TimeProvider.System;
        var lastAnswer = time.GetTimestamp();
        long peak = 0;
        var ended = false;
        long endedAt = 0;
        while (true)
        {
            await Task.Delay(TimeSpan.FromSeconds(1), time, cancellationToken);
            using var status = await GetJsonAsync(http, "/api/status", cancellationToken);
            if (status is null)
            {
                if (await LostAsync(time, lastAnswer, http))
                {
                    return ExitCodes.RuntimeFailure;
                }

                continue;
            }

            lastAnswer = time.GetTimestamp();

            var root = status.RootElement;
            var connected = root.GetProperty("mqtt").GetProperty("connected").GetBoolean();
            var waiting = root.GetProperty("buffer").GetProperty("samples").GetInt64();
            peak = Math.Max(peak, waiting);
            var outage = root.TryGetProperty("drill", out var drill) && drill.GetProperty("outage").ValueKind == JsonValueKind.Object ? drill.GetProperty("outage") : (JsonElement?)null;
            if (outage is { } running)
            {
                Console.WriteLine($"link cut   {running.GetProperty("secondsLeft").GetDouble(),5:0} s left   MQTT {(connected ? "connected" : "disconnected")}   {waiting} samples waiting");
                continue;
            }

            if (!ended)
            {
                ended = true;
                endedAt = time.GetTimestamp();
            }

            Console.WriteLine($"link up                   MQTT {(connected ? "connected" : "disconnected")}   {waiting} samples waiting");
            // Drained: back to what a live link holds (samples in flight), well under what piled up.
            if (connected && waiting <= Math.Max(100, peak / 100))
            {
                Console.WriteLine($"drained: {peak} samples were held in the buffer at most, and delivered after the link came back");
                return ExitCodes.Success;
            }

            if (time.GetElapsedTime(endedAt) > s_drainTimeout)
            {
                await Console.Error.WriteLineAsync($"drill outage: the drill ended {s_drainTimeout.TotalSeconds:0} s ago and the outputs have not drained ({waiting} samples waiting, MQTT {(connected ? "connected" : "disconnected")}): see the gateway's log");
                return ExitCodes.RuntimeFailure;
            }
        }
    }

    private static async Task<int> FollowPlcAsync(HttpClient http, string machine, CancellationToken cancellationToken)
    {
        var time = TimeProvider.System;
        var lastAnswer = time.GetTimestamp();
        while (true)
        {
            await Task.Delay(TimeSpan.FromSeconds(1), time, cancellationToken);
            using var state = await GetJsonAsync(http, "/api/drill", cancellationToken);
            if (state is null)
            {
                if (await LostAsync(time, lastAnswer, http))
                {
                    return ExitCodes.RuntimeFailure;
                }

                continue;
            }

            lastAnswer = time.GetTimestamp();

            var silent = state.RootElement.GetProperty("plc").EnumerateArray().FirstOrDefault(p => p.GetProperty("machine").GetString() == machine);
            if (silent.ValueKind != JsonValueKind.Object)
            {
                Console.WriteLine($"{machine}: its PLC answers again");
                return ExitCodes.Success;
            }

            Console.WriteLine($"{machine}: PLC silent, {silent.GetProperty("secondsLeft").GetDouble():0} s left");
        }
    }

    /// <summary>True (and says so) when the gateway has not answered for 30 s while the verb follows a drill.</summary>
    private static async Task<bool> LostAsync(TimeProvider time, long lastAnswer, HttpClient http)
    {
        if (time.GetElapsedTime(lastAnswer) < TimeSpan.FromSeconds(30))
        {
            return false;
        }

        await Console.Error.WriteLineAsync($"drill: {http.BaseAddress} has not answered for 30 s; the drill ends by itself at its time");
        return true;
    }

    private static async Task<(bool Ok, string Message)?> PostAsync(HttpClient http, string verb, string path, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await http.PostAsync(new Uri(path, UriKind.Relative), null, cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            if (response.StatusCode == System.Net.HttpStatusCode.Unauthorized)
            {
                await Console.Error.WriteLineAsync($"{verb}: {http.BaseAddress} asks for the dashboard password: pass --password-file (http.passwordFile), or the one given is wrong");
                return null;
            }

            try
            {
                using var json = JsonDocument.Parse(body);
                var message = json.RootElement.GetProperty("message").GetString() ?? "";
                if (!response.IsSuccessStatusCode)
                {
                    await Console.Error.WriteLineAsync($"{verb}: refused ({(int)response.StatusCode}): {message}");
                }

                return (response.IsSuccessStatusCode, message);
            }
            catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                await Console.Error.WriteLineAsync($"{verb}: {http.BaseAddress} answered {(int)response.StatusCode} without a drill answer (is it a gateway with drills?)");
                return null;
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            await Console.Error.WriteLineAsync($"{verb}: no gateway answers at {http.BaseAddress}: {ex.Message} (is it running? --url sets its address)");
            return null;
        }
    }

    private static async Task<JsonDocument?> GetJsonAsync(HttpClient http, string path, CancellationToken cancellationToken)
    {
        try
        {
            await using var stream = await http.GetStreamAsync(new Uri(path, UriKind.Relative), cancellationToken);
            return await JsonDocument.ParseAsync(stream, cancellationToken: cancellationToken);
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException || (ex is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // One missed reading of a follow-up: the next second tries again.
            return null;
        }
    }
}
