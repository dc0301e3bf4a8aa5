using System.Text;
using Gateway.Configuration;
using Microsoft.Extensions.Configuration;

namespace Gateway.Tests.Configuration;

/// <summary>The indexed JSON provider answers exactly as the stock one: same sections, same children, same order.</summary>
public sealed class IndexedJsonConfigurationTests
{
    private const string Json = """
        {
          "gateway": { "id": "gw", "Site": "s" },
          "drivers": [
            { "name": "a", "type": "modbus-tcp", "tags": [ { "name": "t1", "address": "holding:1" }, { "name": "t2", "address": "holding:2", "scale": 0.1 } ] },
            { "name": "b", "type": "opcua", "Tags": [ { "name": "x" } ], "security": { "mode": "None" } }
          ],
          "list": [ 3, 1, 10, 2 ],
          "empty": {},
          "emptyList": [],
          "mixed": { "10": "ten", "9": "nine", "b": "bee", "A": "a" }
        }
        """;

    [Fact]
    public void EverySection_HasTheChildrenOfTheStockProvider_InTheSameOrder()
    {
        var stock = new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(Json))).AddInMemoryCollection(new Dictionary<string, string?> { ["gateway:line"] = "l1", ["drivers:0:host"] = "h" }).Build();
        var indexed = new ConfigurationBuilder().Add(new IndexedJsonConfigurationSource { Stream = new MemoryStream(Encoding.UTF8.GetBytes(Json)) }).AddInMemoryCollection(new Dictionary<string, string?> { ["gateway:line"] = "l1", ["drivers:0:host"] = "h" }).Build();

        var expected = Walk(stock);
        var actual = Walk(indexed);

        Assert.True(expected.Count > 30, "the walk covers the tree");
        Assert.Equal(expected, actual);
        Assert.Equal("holding:2", indexed["drivers:0:tags:1:address"]);
        Assert.Equal(["t1", "t2"], indexed.GetSection("DRIVERS:0:TAGS").GetChildren().Select(c => c["name"]));
    }

    [Fact]
    public void Binding_GivesTheSameObjects()
    {
        var stock = new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(Json))).Build();
        var indexed = new ConfigurationBuilder().Add(new IndexedJsonConfigurationSource { Stream = new MemoryStream(Encoding.UTF8.GetBytes(Json)) }).Build();

        Assert.Equal(stock.GetSection("list").Get<int[]>(), indexed.GetSection("list").Get<int[]>());
        Assert.Equal([3, 1, 10, 2], indexed.GetSection("list").Get<int[]>()!);
        Assert.Equal(stock.GetSection("mixed").Get<Dictionary<string, string>>(), indexed.GetSection("mixed").Get<Dictionary<string, string>>());
    }

    /// <summary>Every section path with its value, depth first, in the order GetChildren gives.</summary>
    private static List<string> Walk(IConfiguration configuration)
    {
        var lines = new List<string>();
        void Visit(IConfiguration node, string path)
        {
            foreach (var child in node.GetChildren())
            {
                lines.Add($"{child.Path}={child.Value}");
                Visit(child, child.Path);
            }
        }

        Visit(configuration, "");
        return lines;
    }
}
