using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Threading.Channels;
using Gateway.Dashboard;
using Gateway.Discovery;
using Gateway.Drivers;
using Gateway.Drivers.OpcUa.Channel;
using Gateway.Drivers.OpcUa.Client;
using Gateway.Drivers.OpcUa.Encoding;
using Gateway.Drivers.OpcUa.Security;
using Gateway.Drivers.OpcUa.Transport;

namespace Gateway.Cli;

/// <summary><c>gateway opcua browse|read|subscribe</c>: protocol tools over the gateway's own OPC UA client.</summary>
internal static class OpcUaCommands
{
    // Names and string NodeIds are often not ASCII (°C, 温度): print them as they are, not as \uXXXX escapes.

    public static Command Create()
    {
        var command = new Command("opcua", "OPC UA tools: browse the address space, read values, subscribe to data changes.");
        command.Subcommands.Add(Browse());
        command.Subcommands.Add(Read());
        command.Subcommands.Add(Subscribe());
        command.Subcommands.Add(WriteCommands.OpcUa());
        return command;
    }

    internal sealed class Common
    {
        public Argument<string> Url { get; } = new("URL") { Description = "Endpoint URL, for example opc.tcp://127.0.0.1:4840" };

        public Option<string> Security { get; } = new("--security") { Description = "Security policy: None, Basic256Sha256, Aes128_Sha256_RsaOaep, Aes256_Sha256_RsaPss, or auto (the most secure endpoint offered)", DefaultValueFactory = _ => "None" };

        public Option<string?> Mode { get; } = new("--mode") { Description = "Message security mode: Sign or SignAndEncrypt (default SignAndEncrypt with a policy other than None)" };

        public Option<FileInfo?> UserCertificate { get; } = new("--user-certificate") { Description = "X.509 user certificate (DER or PEM) to log in with instead of --user; needs --user-key" };

        public Option<FileInfo?> UserKey { get; } = new("--user-key") { Description = "PEM private key of --user-certificate" };

        public Option<DirectoryInfo?> Pki { get; } = new("--pki") { Description = "PKI folder (own/, trusted/, rejected/, issuers/); default ~/.local/share/gateway/pki" };

        public Option<bool> TrustOnFirstUse { get; } = new("--trust-on-first-use") { Description = "Trust a server certificate not yet in trusted/ and store it there (demos and labs only)" };

        public Option<string?> User { get; } = new("--user") { Description = "User name (anonymous when absent)" };

        public Option<FileInfo?> PasswordFile { get; } = new("--password-file") { Description = "File holding the user's password" };

        public void AddTo(Command command)
        {
            command.Arguments.Add(Url);
            command.Options.Add(Security);
            command.Options.Add(Mode);
            command.Options.Add(User);
            command.Options.Add(PasswordFile);
            command.Options.Add(UserCertificate);
            command.Options.Add(UserKey);
            command.Options.Add(Pki);
            command.Options.Add(TrustOnFirstUse);
        }

        /// <summary>Client options, or a usage error (exit 2) printed to stderr.</summary>
        public UaClientOptions? Options(ParseResult parseResult)
        {
            var url = parseResult.GetValue(Url)!;
            var security = parseResult.GetValue(Security) ?? "None";
            var mode = parseResult.GetValue(Mode);
            if (SecurityChoice.Check(security, mode) is [var problem, ..])
            {
                return Usage($"{(problem.Field == SecurityChoiceField.Policy ? "--security" : "--mode")}: {problem.Reason}");
            }

            try
            {
                UaClient.ParseEndpoint(url);
            }
            catch (ArgumentException ex)
            {
                return Usage(ex.Message);
            }

            var user = parseResult.GetValue(User);
            var passwordFile = parseResult.GetValue(PasswordFile);
            string? password = null;
            if (user is not null)
            {
                if (passwordFile is null)
                {
                    return Usage("--user needs --password-file");
                }

                try
                {
                    password = File.ReadAllText(passwordFile.FullName).TrimEnd('\r', '\n');
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    return Usage($"cannot read --password-file '{passwordFile}': {ex.Message}");
                }
            }

            var userCertificateFile = parseResult.GetValue(UserCertificate);
            var userKeyFile = parseResult.GetValue(UserKey);
            System.Security.Cryptography.X509Certificates.X509Certificate2? userCertificate = null;
            if ((userCertificateFile is null) != (userKeyFile is null))
            {
                return Usage("--user-certificate and --user-key go together");
            }

            if (userCertificateFile is not null)
            {
                if (user is not null)
                {
                    return Usage("give either --user or --user-certificate, not both");
                }

                try
                {
                    userCertificate = CertificateStore.LoadUserCertificate(userCertificateFile.FullName, userKeyFile!.FullName);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException or ArgumentException)
                {
                    return Usage($"cannot load --user-certificate '{userCertificateFile}' with --user-key '{userKeyFile}': {ex.Message}");
                }
            }

            return new UaClientOptions
            {
                UserCertificate = userCertificate,
                EndpointUrl = url,
                SecurityPolicy = SecurityChoice.Policy(security),
                SecurityMode = SecurityChoice.Mode(mode),
                UserName = user,
                Password = password,
                PkiDirectory = parseResult.GetValue(Pki)?.FullName,
                ServerCertificateTrust = parseResult.GetValue(TrustOnFirstUse) ? ServerCertificateTrust.TrustOnFirstUse : ServerCertificateTrust.TrustList,
            };
        }

        private static UaClientOptions? Usage(string message)
        {
            Console.Error.WriteLine(message);
            return null;
        }
    }

    private static Command Browse()
    {
        var common = new Common();
        var node = new Option<string>("--node") { Description = "Start node (NodeId or browse path); default the Objects folder", DefaultValueFactory = _ => "i=85" };
        var depth = new Option<int>("--depth") { Description = "Levels to descend", DefaultValueFactory = _ => 2 };
        var json = new Option<bool>("--json") { Description = "Print JSON instead of an indented tree" };
        var emitTags = new Option<bool>("--emit-tags") { Description = "Print the variables found as a tags[] JSON fragment for an opcua driver (check-config accepts it)" };
        var command = new Command("browse", "Print the address space tree: NodeId, BrowseName, NodeClass, DataType (Float[1000] for arrays, '(structure)' for structures).");
        common.AddTo(command);
        command.Options.Add(node);
        command.Options.Add(depth);
        command.Options.Add(json);
        command.Options.Add(emitTags);
        command.SetAction((parseResult, ct) => RunAsync(common, parseResult, async client =>
        {
            var start = await ResolveAsync(client, [parseResult.GetValue(node)!], ct);
            if (start[0] is null)
            {
                Console.Error.WriteLine($"cannot resolve {parseResult.GetValue(node)}");
                return ExitCodes.RuntimeFailure;
            }

            var tree = await OpcUaBrowser.BrowseTreeAsync(client, start[0]!, Math.Max(0, parseResult.GetValue(depth)), ct);
            if (parseResult.GetValue(emitTags))
            {
                Console.WriteLine(TagEmitter.ToJson(TagEmitter.OpcUa(tree)));
            }
            else if (parseResult.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(tree, CliJsonContext.Indented.TreeNode));
            }
            else
            {
                Print(tree, 0);
            }

            return ExitCodes.Success;
        }, ct));
        return command;
    }

    private static Command Read()
    {
        var common = new Common();
        var nodes = new Argument<string[]>("NODEID") { Description = "NodeIds (ns=1;s=Name, nsu=URI;s=Name, ns=1;i=1001, ns=1;g=GUID, ns=1;b=BASE64) or browse paths (/Objects/1:Machine1/1:Temperature)", Arity = ArgumentArity.OneOrMore };
        var command = new Command("read", "Print value, status and timestamps of each node.");
        common.AddTo(command);
        command.Arguments.Add(nodes);
        command.SetAction((parseResult, ct) => RunAsync(common, parseResult, async client =>
        {
            var names = parseResult.GetValue(nodes)!;
            var ids = await ResolveAsync(client, names, ct);
            var catalog = await OpcUaCliStructures.LoadAsync(client, ids, ct);
            var values = await client.ReadAsync(ids.Select(id => id ?? NodeId.Null).ToArray(), ct);
            var exit = ExitCodes.Success;
            for (var i = 0; i < names.Length; i++)
            {
                var value = ids[i] is null ? new DataValue { StatusCode = new StatusCode(SampleStatus.BadNodeIdUnknown) } : values[i];
                Console.WriteLine($"{names[i]} = {Format(value, catalog)}");
                if (value.StatusCode.IsBad)
                {
                    exit = ExitCodes.RuntimeFailure;
                }
            }

            return exit;
        }, ct));
        return command;
    }

    private static Command Subscribe()
    {
        var common = new Common();
        var nodes = new Argument<string[]>("NODEID") { Description = "NodeIds or browse paths", Arity = ArgumentArity.OneOrMore };
        var interval = new Option<int>("--interval") { Description = "Publishing and sampling interval in milliseconds", DefaultValueFactory = _ => 1000 };
        var count = new Option<int>("--count") { Description = "Stop after this many data changes (0 = until Ctrl+C)", DefaultValueFactory = _ => 0 };
        var command = new Command("subscribe", "Print data changes as they arrive.");
        common.AddTo(command);
        command.Arguments.Add(nodes);
        command.Options.Add(interval);
        command.Options.Add(count);
        command.SetAction((parseResult, ct) => RunAsync(common, parseResult, async client =>
        {
            var names = parseResult.GetValue(nodes)!;
            var ms = Math.Max(1, parseResult.GetValue(interval));
            var max = Math.Max(0, parseResult.GetValue(count));
            var ids = await ResolveAsync(client, names, ct);
            for (var i = 0; i < ids.Length; i++)
            {
                if (ids[i] is null)
                {
                    Console.Error.WriteLine($"cannot resolve {names[i]}");
                    return ExitCodes.RuntimeFailure;
                }
            }

            var catalog = await OpcUaCliStructures.LoadAsync(client, ids, ct);

            // Bounded: a terminal slower than the server drops the oldest changes rather than growing without limit.
            var changes = Channel.CreateBounded<(string Name, DataValue Value)>(new BoundedChannelOptions(10_000) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
            var subscription = await client.CreateSubscriptionAsync(ms, (item, value) => changes.Writer.TryWrite(((string)item.Context!, value)), ct);
            await client.AddMonitoredItemsAsync(subscription, ids.Select((id, i) => new MonitoredItem(id!, ms, 10, null, names[i])).ToArray(), ct);
            foreach (var item in subscription.MonitoredItems.Where(m => m.Status.IsBad))
            {
                Console.Error.WriteLine($"{item.Context}: {item.Status}");
            }

            var seen = 0;
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var watcher = ReconnectWhenLostAsync(client, stop.Token);
            try
            {
                await foreach (var (name, value) in changes.Reader.ReadAllAsync(ct))
                {
                    Console.WriteLine($"{name} = {Format(value, catalog)}");
                    if (max > 0 && ++seen >= max)
                    {
                        break;
                    }
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
            }
            finally
            {
                await stop.CancelAsync();
                await watcher.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }

            return ExitCodes.Success;
        }, ct));
        return command;
    }

    /// <summary>
    /// While <c>subscribe</c> runs: when the connection or the session is lost (server restart, session timeout), say
    /// so on stderr and run the client's reconnect ladder with backoff, which brings the subscription back (republished,
    /// transferred or recreated), instead of waiting silently for changes that can no longer come.
    /// </summary>
    private static async Task ReconnectWhenLostAsync(UaClient client, CancellationToken cancellationToken)
    {
        var retry = Backoff.Forever(TimeProvider.System, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10),
            new Polly.PredicateBuilder().Handle<UaException>().Handle<IOException>(),
            args =>
            {
                Console.Error.WriteLine($"reconnect failed: {args.Outcome.Exception?.Message}; retrying in {args.RetryDelay.TotalSeconds:0.#} s");
                return ValueTask.CompletedTask;
            });
        while (!cancellationToken.IsCancellationRequested)
        {
            var lost = await client.ChannelLost.WaitAsync(cancellationToken);
            Console.Error.WriteLine($"connection lost ({lost?.Message ?? "closed"}); reconnecting");
            var newSession = await retry.ExecuteAsync(async ct => await client.ReconnectAsync(ct), cancellationToken);
            Console.Error.WriteLine(newSession ? "reconnected (new session; subscription restored)" : "reconnected (session resumed)");
        }
    }

    internal static async Task<int> RunAsync(Common common, ParseResult parseResult, Func<UaClient, Task<int>> body, CancellationToken cancellationToken)
    {
        var options = common.Options(parseResult);
        if (options is null)
        {
            return ExitCodes.UsageOrConfiguration;
        }

        await using var client = new UaClient(options);
        try
        {
            await client.ConnectAsync(cancellationToken);
        }
        catch (UaConnectionException ex)
        {
            Console.Error.WriteLine($"{options.EndpointUrl}: {ex.Message}");
            return ExitCodes.PeerUnreachable;
        }
        catch (UaException ex) when (ex.StatusCode is SampleStatus.BadIdentityTokenInvalid or SampleStatus.BadIdentityTokenRejected or SampleStatus.BadUserAccessDenied or SampleStatus.BadSecurityChecksFailed
                                         or SampleStatus.BadCertificateUntrusted or SampleStatus.BadCertificateInvalid or SampleStatus.BadCertificateTimeInvalid
                                         or SampleStatus.BadCertificateUriInvalid or SampleStatus.BadApplicationSignatureInvalid or SampleStatus.BadNonceInvalid
                                         or SampleStatus.BadTooManySessions)
        {
            // The peer is there but refuses us (credentials, certificates, or no session free: a small PLC's limit).
            Console.Error.WriteLine($"{options.EndpointUrl}: refused: {ex.Message}");
            return ExitCodes.PeerUnreachable;
        }
        catch (UaException ex)
        {
            Console.Error.WriteLine($"{options.EndpointUrl}: {ex.Message}");
            return ExitCodes.RuntimeFailure;
        }

        try
        {
            return await body(client);
        }
        catch (UaException ex)
        {
            Console.Error.WriteLine(ex.Message);
            return ExitCodes.RuntimeFailure;
        }
        finally
        {
            await client.CloseAsync(CancellationToken.None);
        }
    }

    /// <summary>NodeIds parse directly; browse paths are translated in one request.</summary>
    internal static async Task<NodeId?[]> ResolveAsync(UaClient client, string[] names, CancellationToken ct)
    {
        var result = new NodeId?[names.Length];
        var paths = new List<(int Index, BrowsePath Path)>();
        for (var i = 0; i < names.Length; i++)
        {
            if (names[i].StartsWith('/'))
            {
                paths.Add((i, UaClient.ParseBrowsePath(names[i])));
            }
            else if (ExpandedNodeId.TryParse(names[i], out var id))
            {
                result[i] = await client.ResolveNamespaceAsync(id, ct);
                if (result[i] is null)
                {
                    Console.Error.WriteLine($"{names[i]}: the server has no namespace {id.NamespaceUri}");
                }
            }
            else
            {
                Console.Error.WriteLine($"'{names[i]}' is neither a NodeId nor a browse path");
            }
        }

        if (paths.Count > 0)
        {
            var translated = await client.TranslateAsync(paths.Select(p => p.Path).ToArray(), ct);
            for (var i = 0; i < paths.Count; i++)
            {
                result[paths[i].Index] = translated[i].NodeId;
            }
        }

        return result;
    }

    private static void Print(OpcUaBrowser.TreeNode node, int indent)
    {
        Console.WriteLine($"{new string(' ', indent * 2)}{node.NodeId}  {node.BrowseName}  {node.NodeClass}{(node.DataType is null ? "" : "  " + node.DataType)}");
        foreach (var child in node.Children ?? [])
        {
            Print(child, indent + 1);
        }
    }

    internal static string Format(DataValue value, Drivers.OpcUa.DataTypes.UaDataTypeCatalog? catalog = null) =>
        catalog is not null && OpcUaCliStructures.Format(value.Value, catalog) is { } structure
            ? string.Create(CultureInfo.InvariantCulture, $"{structure.Value} ({structure.Type}) {value.StatusCode} source={Timestamp(value.SourceTimestamp)} server={Timestamp(value.ServerTimestamp)}")
            : string.Create(CultureInfo.InvariantCulture, $"{value.Value} ({TypeName(value.Value)}) {value.StatusCode} source={Timestamp(value.SourceTimestamp)} server={Timestamp(value.ServerTimestamp)}");

    private static string TypeName(Variant value) =>
        value.Dimensions is { Length: > 0 } dimensions ? $"{value.Type}[{string.Join(",", dimensions)}]" : value.IsArray ? value.Type + "[]" : value.Type.ToString();

    private static string Timestamp(DateTime time) => time == default ? "-" : time.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
}
