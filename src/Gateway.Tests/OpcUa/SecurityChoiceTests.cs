using Gateway.Drivers.OpcUa.Channel;
using Gateway.Drivers.OpcUa.Encoding;

namespace Gateway.Tests.OpcUa;

public sealed class SecurityChoiceTests
{
    [Theory]
    [InlineData("None", null)]
    [InlineData("None", "None")]
    [InlineData("Basic256Sha256", null)]
    [InlineData("Basic256Sha256", "Sign")]
    [InlineData("Aes256_Sha256_RsaPss", "SignAndEncrypt")]
    [InlineData("auto", null)]
    [InlineData("auto", "None")]
    public void Check_UsablePairs_HaveNoProblem(string policy, string? mode)
    {
        Assert.Empty(SecurityChoice.Check(policy, mode));
    }

    [Theory]
    [InlineData("Basic128Rsa15", "Encrypt", 2)]
    [InlineData("None", "Sign", 1)]
    [InlineData("Basic256Sha256", "None", 1)]
    public void Check_UnusablePairs_NameTheWrongHalf(string policy, string? mode, int count)
    {
        var problems = SecurityChoice.Check(policy, mode);

        Assert.Equal(count, problems.Count);
        Assert.Equal(SecurityChoiceField.Mode, problems[^1].Field);
    }

    [Fact]
    public void WantedMode_WithoutAMode_IsNoneUnderNoneSignAndEncryptOtherwiseAnyUnderAuto()
    {
        Assert.Equal(MessageSecurityMode.None, SecurityChoice.WantedMode("None", null));
        Assert.Equal(MessageSecurityMode.SignAndEncrypt, SecurityChoice.WantedMode("Basic256Sha256", null));
        Assert.Null(SecurityChoice.WantedMode("auto", null));
        Assert.Equal(MessageSecurityMode.Sign, SecurityChoice.WantedMode("auto", "Sign"));
    }
}
