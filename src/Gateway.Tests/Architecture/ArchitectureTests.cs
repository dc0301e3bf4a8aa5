using System.Reflection;
using System.Reflection.Emit;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Architecture;

/// <summary>The rules of docs/architecture.md that a compiler does not check: the layers, no dependency cycle between namespaces, and one EventId per log line.</summary>
public sealed class ArchitectureTests
{
    private static readonly Assembly[] s_assemblies = [typeof(Gateway.Configuration.GatewayConfig).Assembly, typeof(Gateway.Drivers.IDriver).Assembly];

    /// <summary>The namespaces below the host: none of them may use Gateway.Hosting (the composition root).</summary>
    private static readonly string[] s_lowerLayers =
    [
        "Gateway.Drivers", "Gateway.Buffering", "Gateway.Pipeline", "Gateway.Northbound", "Gateway.Oee", "Gateway.Dashboard", "Gateway.Configuration",
    ];

    private static readonly OpCode[] s_oneByte = new OpCode[256];
    private static readonly OpCode[] s_twoByte = new OpCode[256];

    static ArchitectureTests()
    {
        foreach (var field in typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static))
        {
            var code = (OpCode)field.GetValue(null)!;
            var value = (ushort)code.Value;
            if (code.Size == 1)
            {
                s_oneByte[value] = code;
            }
            else
            {
                s_twoByte[value & 0xFF] = code;
            }
        }
    }

    [Fact]
    public void LoggerMessageEventIds_AreEachUsedByOneClassOnly()
    {
        var owners = s_assemblies
            .SelectMany(a => a.GetTypes())
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly)
                .Select(m => (Type: t, Attribute: m.GetCustomAttribute<LoggerMessageAttribute>()))
                .Where(x => x.Attribute is not null))
            .GroupBy(x => x.Attribute!.EventId)
            .ToList();

        Assert.NotEmpty(owners);
        var shared = owners
            .Where(g => g.Select(x => x.Type).Distinct().Count() > 1)
            .OrderBy(g => g.Key)
            .Select(g => $"EventId {g.Key}: {string.Join(", ", g.Select(x => x.Type.FullName).Distinct().Order(StringComparer.Ordinal))}")
            .ToList();
        Assert.True(shared.Count == 0, "EventIds shared by several classes (give each class its own range, docs/architecture.md):\n" + string.Join("\n", shared));
    }

    [Fact]
    public void LowerLayers_DoNotUseTheHost()
    {
        var violations = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var type in s_assemblies.SelectMany(a => a.GetTypes()).Where(t => IsLowerLayer(t.Namespace)))
        {
            foreach (var used in UsedTypes(type).Where(u => u.Namespace is { } ns && (ns == "Gateway.Hosting" || ns.StartsWith("Gateway.Hosting.", StringComparison.Ordinal))))
            {
                violations.Add($"{Outermost(type).FullName} uses {used.FullName}");
            }
        }

        Assert.True(violations.Count == 0, "lower layers using Gateway.Hosting (see docs/architecture.md):\n" + string.Join("\n", violations));
    }

    [Fact]
    public void Namespaces_DependOnEachOtherWithoutCycle()
    {
        // Each namespace of both assemblies, with one example of each edge (which type uses which) for the message.
        var edges = new Dictionary<string, SortedDictionary<string, string>>(StringComparer.Ordinal);
        foreach (var type in s_assemblies.SelectMany(a => a.GetTypes()).Where(t => IsOurs(t.Namespace)))
        {
            foreach (var used in UsedTypes(type).Where(u => IsOurs(u.Namespace) && u.Namespace != type.Namespace))
            {
                if (!edges.TryGetValue(type.Namespace!, out var targets))
                {
                    edges[type.Namespace!] = targets = new SortedDictionary<string, string>(StringComparer.Ordinal);
                }

                targets.TryAdd(used.Namespace!, $"{Outermost(type).Name} uses {Outermost(used).Name}");
            }
        }

        Assert.True(edges.Count > 10, "the dependency graph was not read");
        var cycle = FindCycle(edges.ToDictionary(e => e.Key, e => (IEnumerable<string>)e.Value.Keys, StringComparer.Ordinal));
        Assert.True(cycle is null, cycle is null ? "" : "a dependency cycle between namespaces (docs/architecture.md):\n" +
            string.Join("\n", cycle.Zip(cycle.Skip(1)).Select(p => $"{p.First} -> {p.Second} ({edges[p.First][p.Second]})")));
    }

    [Fact]
    public void CycleCheck_FindsACycleAndOnlyACycle()
    {
        var acyclic = new Dictionary<string, IEnumerable<string>> { ["A"] = ["B", "C"], ["B"] = ["C"], ["C"] = [] };
        var cyclic = new Dictionary<string, IEnumerable<string>> { ["A"] = ["B"], ["B"] = ["C"], ["C"] = ["D", "B"], ["D"] = [] };

        Assert.Null(FindCycle(acyclic));
        Assert.Equal(["B", "C", "B"], FindCycle(cyclic));
    }

    private static bool IsOurs(string? ns) => ns is not null && ns.StartsWith("Gateway.", StringComparison.Ordinal) && !ns.StartsWith("Gateway.Tests", StringComparison.Ordinal);

    /// <summary>One cycle of the graph as its path (first node repeated at the end), or null when there is none.</summary>
    private static List<string>? FindCycle(IReadOnlyDictionary<string, IEnumerable<string>> edges)
    {
        var state = new Dictionary<string, bool>(StringComparer.Ordinal); // false: on the path, true: done
        var path = new List<string>();
        foreach (var start in edges.Keys.Order(StringComparer.Ordinal))
        {
            if (Visit(start) is { } found)
            {
                return found;
            }
        }

        return null;

        List<string>? Visit(string node)
        {
            if (state.TryGetValue(node, out var done))
            {
                return done ? null : [.. path.Skip(path.IndexOf(node)), node];
            }

            state[node] = false;
            path.Add(node);
            foreach (var next in edges.TryGetValue(node, out var targets) ? targets : [])
            {
                if (Visit(next) is { } found)
                {
                    return found;
                }
            }

            path.RemoveAt(path.Count - 1);
            state[node] = true;
            return null;
        }
    }

    [Fact]
    public void LayerCheck_SeesTypesUsedOnlyInsideMethodBodies()
    {
        // A reference that appears in no signature, only in IL (a static call in a method body), is still seen.
        var used = UsedTypes(typeof(ArchitectureTests)).ToHashSet();

        Assert.Contains(typeof(OpCodes), used);
        Assert.Contains(typeof(Gateway.Drivers.IDriver), used);
    }

    private static bool IsLowerLayer(string? ns) =>
        ns is not null && s_lowerLayers.Any(l => ns == l || ns.StartsWith(l + ".", StringComparison.Ordinal));

    private static Type Outermost(Type type) => type.DeclaringType is { } outer ? Outermost(outer) : type;

    /// <summary>Every type a type's signatures and method bodies refer to, generic arguments included.</summary>
    private static IEnumerable<Type> UsedTypes(Type type)
    {
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly;
        var direct = new List<Type>();
        if (type.BaseType is { } baseType)
        {
            direct.Add(baseType);
        }

        direct.AddRange(type.GetInterfaces());
        direct.AddRange(type.GetFields(all).Select(f => f.FieldType));
        direct.AddRange(type.GetProperties(all).Select(p => p.PropertyType));
        direct.AddRange(type.GetEvents(all).Select(e => e.EventHandlerType!));
        foreach (var method in type.GetMethods(all).Cast<MethodBase>().Concat(type.GetConstructors(all)))
        {
            if (method is MethodInfo info)
            {
                direct.Add(info.ReturnType);
            }

            direct.AddRange(method.GetParameters().Select(p => p.ParameterType));
            direct.AddRange(method.GetMethodBody()?.LocalVariables.Select(l => l.LocalType) ?? []);
            direct.AddRange(BodyReferences(method));
        }

        return direct.SelectMany(Expand).Distinct();
    }

    private static IEnumerable<Type> Expand(Type type)
    {
        yield return type;
        if (type.HasElementType)
        {
            foreach (var inner in Expand(type.GetElementType()!))
            {
                yield return inner;
            }
        }

        if (type.IsGenericType && !type.IsGenericTypeDefinition)
        {
            foreach (var inner in type.GetGenericArguments().SelectMany(Expand))
            {
                yield return inner;
            }
        }
    }

    /// <summary>The declaring types of the members, and the types, that a method's IL names by token.</summary>
    private static List<Type> BodyReferences(MethodBase method)
    {
        var result = new List<Type>();
        var il = method.GetMethodBody()?.GetILAsByteArray();
        if (il is null)
        {
            return result;
        }

        var typeArguments = method.DeclaringType is { IsGenericType: true } declaring ? declaring.GetGenericArguments() : null;
        var methodArguments = method.IsGenericMethod ? method.GetGenericArguments() : null;
        for (var i = 0; i < il.Length;)
        {
            var opCode = il[i] == 0xFE ? s_twoByte[il[i + 1]] : s_oneByte[il[i]];
            i += opCode.Size;
            switch (opCode.OperandType)
            {
                case OperandType.InlineMethod or OperandType.InlineField or OperandType.InlineType or OperandType.InlineTok:
                    var member = method.Module.ResolveMember(BitConverter.ToInt32(il, i), typeArguments, methodArguments);
                    switch (member)
                    {
                        case Type t:
                            result.Add(t);
                            break;
                        case FieldInfo f:
                            result.Add(f.DeclaringType!);
                            result.Add(f.FieldType);
                            break;
                        case MethodBase m:
                            result.Add(m.DeclaringType!);
                            if (m is MethodInfo mi)
                            {
                                result.Add(mi.ReturnType);
                                if (mi.IsGenericMethod)
                                {
                                    result.AddRange(mi.GetGenericArguments());
                                }
                            }

                            break;
                    }

                    i += 4;
                    break;
                case OperandType.InlineSwitch:
                    i += 4 + (4 * BitConverter.ToInt32(il, i));
                    break;
                case OperandType.InlineNone:
                    break;
                case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar:
                    i += 1;
                    break;
                case OperandType.InlineVar:
                    i += 2;
                    break;
                case OperandType.InlineI8 or OperandType.InlineR:
                    i += 8;
                    break;
                default:
                    i += 4;
                    break;
            }
        }

        return result;
    }
}
