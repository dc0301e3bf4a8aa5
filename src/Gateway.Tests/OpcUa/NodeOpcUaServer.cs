using System.Net;
using System.Net.Sockets;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.OpcUa;

/// <summary>
/// Runs tests/peers/opcua/server.mjs, or server-variant.mjs (a server set up as field servers are), with node-opcua
/// 2.186.4 on a free loopback port (see <see cref="NodePeerProcess"/>): ready once the port accepts.
/// </summary>
public sealed class NodeOpcUaServer : NodePeerProcess
{
    private static readonly SemaphoreSlim s_starting = new(1, 1);
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(180);
    private readonly string _script;
    private string[] _arguments;

    private NodeOpcUaServer(string script, int port, string[] arguments)
        : base(PeerDirectory, port, keepLines: 20)
    {
        _script = script;
        _arguments = arguments;
    }

    public string Url => $"opc.tcp://127.0.0.1:{Port}";

    public static string PeerDirectory => FindPeerDirectory("opcua", "server.mjs");

    protected override string Name => "node-opcua";

    /// <summary>Starts a server; <paramref name="arguments"/> are the script's options (for example <c>--small-chunks</c>).</summary>
    public static Task<NodeOpcUaServer> StartAsync(params string[] arguments) => StartScriptAsync("server.mjs", arguments);

    /// <summary>Starts server-variant.mjs: namespaces 2 and 3, odd NodeIds and types, small limits (see its options).</summary>
    public static Task<NodeOpcUaServer> StartVariantAsync(params string[] arguments) => StartScriptAsync("server-variant.mjs", arguments);

    private static async Task<NodeOpcUaServer> StartScriptAsync(string script, string[] arguments)
    {
        await EnsureInstalledAsync();
        var server = new NodeOpcUaServer(script, PortAllocator.FreeTcpPort(), arguments);
        await server.StartProcessAsync();
        return server;
    }

    internal static Task EnsureInstalledAsync() => EnsureInstalledAsync(PeerDirectory, Path.Combine("node_modules", "node-opcua"));

    private async Task StartProcessAsync()
    {
        // One start at a time: node-opcua's start-up (address space, certificates) is CPU-heavy, and on a loaded
        // two-core CI machine several at once made each other miss their deadline.
        await s_starting.WaitAsync();
        try
        {
            await StartNodeAsync(_script, _arguments, s_startTimeout, TimeSpan.FromMilliseconds(100));
        }
        finally
        {
            s_starting.Release();
        }
    }

    protected override async Task<bool> IsReadyAsync()
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, Port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>
    /// Freezes the server (SIGSTOP to its pid): its TCP connections stay open but nothing answers, as with a hung
    /// PLC or a half-open connection. <see cref="ResumeAsync"/> lets it run on.
    /// </summary>
    public Task PauseAsync() => SignalAsync("-STOP");

    public Task ResumeAsync() => SignalAsync("-CONT");

    /// <summary>Starts the server again on the same port.</summary>
    public Task RestartAsync() => StartProcessAsync();

    /// <summary>Starts the server again on the same port with other options (a server updated while clients wait).</summary>
    public Task RestartAsync(params string[] arguments)
    {
        _arguments = arguments;
        return StartProcessAsync();
    }
}
