using System.ComponentModel;
using Gateway.Drivers.OpcUa.Encoding;

namespace Gateway.Drivers.OpcUa.Channel;

/// <summary>
/// The security policy asked for (<c>securityPolicy</c>): one we implement, or <see cref="Auto"/> (the most secure
/// endpoint the server offers among them). Written as the specification's short names and <c>auto</c>, exactly.
/// </summary>
[TypeConverter(typeof(OpcUaSecurityPolicyConverter))]
public enum OpcUaSecurityPolicy
{
    /// <summary><c>None</c>: no signature, no encryption.</summary>
    None,

    /// <summary><c>Basic256Sha256</c>.</summary>
    Basic256Sha256,

    /// <summary><c>Aes128_Sha256_RsaOaep</c>.</summary>
    Aes128Sha256RsaOaep,

    /// <summary><c>Aes256_Sha256_RsaPss</c>.</summary>
    Aes256Sha256RsaPss,

    /// <summary><c>auto</c>: the endpoint with the highest security level the server offers among the others.</summary>
    Auto,
}

/// <summary>The message security mode asked for (<c>securityMode</c>): <c>None</c>, <c>Sign</c> or <c>SignAndEncrypt</c>, exactly.</summary>
[TypeConverter(typeof(OpcUaSecurityModeConverter))]
public enum OpcUaSecurityMode
{
    None,
    Sign,
    SignAndEncrypt,
}

/// <summary>The spellings of <see cref="OpcUaSecurityPolicy"/>.</summary>
public sealed class OpcUaSecurityPolicyConverter() : ClosedChoiceConverter<OpcUaSecurityPolicy>(
    ("None", OpcUaSecurityPolicy.None),
    ("Basic256Sha256", OpcUaSecurityPolicy.Basic256Sha256),
    ("Aes128_Sha256_RsaOaep", OpcUaSecurityPolicy.Aes128Sha256RsaOaep),
    ("Aes256_Sha256_RsaPss", OpcUaSecurityPolicy.Aes256Sha256RsaPss),
    (SecurityChoice.Auto, OpcUaSecurityPolicy.Auto));

/// <summary>The spellings of <see cref="OpcUaSecurityMode"/>.</summary>
public sealed class OpcUaSecurityModeConverter() : ClosedChoiceConverter<OpcUaSecurityMode>(
    ("None", OpcUaSecurityMode.None),
    ("Sign", OpcUaSecurityMode.Sign),
    ("SignAndEncrypt", OpcUaSecurityMode.SignAndEncrypt));

/// <summary>Which half of a security choice is wrong.</summary>
public enum SecurityChoiceField
{
    Policy,
    Mode,
}

/// <summary>Why a security choice cannot be used; <see cref="Reason"/> is written without the key or option name.</summary>
public sealed record SecurityChoiceProblem(SecurityChoiceField Field, string Reason);

/// <summary>
/// The one rule for the security a user asks for: a policy short name (<see cref="SecurityPolicies.ShortNames"/>) or
/// <c>auto</c>, and an optional mode (None, Sign, SignAndEncrypt). Used by the driver's configuration check, the
/// client and the command line, which only say it in their own words (a JSON path, an option name).
/// </summary>
public static class SecurityChoice
{
    /// <summary>The policy that picks the most secure endpoint the server offers.</summary>
    public const string Auto = "auto";

    private static readonly string[] s_modes = ["None", "Sign", "SignAndEncrypt"];

    /// <summary>How <paramref name="policy"/> is written (<c>Aes128_Sha256_RsaOaep</c>, <c>auto</c>).</summary>
    public static string Spelling(OpcUaSecurityPolicy policy) => ClosedChoice.Of<OpcUaSecurityPolicy>().Spelling(policy);

    /// <summary>How <paramref name="mode"/> is written; null stays null (no mode asked for).</summary>
    public static string? Spelling(OpcUaSecurityMode? mode) => mode is { } m ? ClosedChoice.Of<OpcUaSecurityMode>().Spelling(m) : null;

    /// <summary>The policy a checked spelling names (see <see cref="Check(string, string?)"/>).</summary>
    public static OpcUaSecurityPolicy Policy(string policy) =>
        ClosedChoice.Of<OpcUaSecurityPolicy>().TryParse(policy, out var value) ? value : throw new ArgumentException($"unknown security policy '{policy}'", nameof(policy));

    /// <summary>The mode a checked spelling names; null stays null.</summary>
    public static OpcUaSecurityMode? Mode(string? mode) =>
        mode is null ? null
        : ClosedChoice.Of<OpcUaSecurityMode>().TryParse(mode, out var value) ? value : throw new ArgumentException($"unknown security mode '{mode}'", nameof(mode));

    /// <summary>What is wrong with the pair (the two are known values, so only a mode that does not fit the policy); empty when it can be used.</summary>
    public static IReadOnlyList<SecurityChoiceProblem> Check(OpcUaSecurityPolicy policy, OpcUaSecurityMode? mode) => Check(Spelling(policy), Spelling(mode));

    /// <summary>What is wrong with the pair as written (an unknown policy, then a mode problem); empty when it can be used.</summary>
    public static IReadOnlyList<SecurityChoiceProblem> Check(string policy, string? mode)
    {
        var problems = new List<SecurityChoiceProblem>(2);
        if (policy != Auto && SecurityPolicies.UriOf(policy) is null)
        {
            problems.Add(new(SecurityChoiceField.Policy, $"must be {string.Join(", ", SecurityPolicies.ShortNames)} or {Auto}, got '{policy}'"));
        }

        if (mode is not null && !s_modes.Contains(mode))
        {
            problems.Add(new(SecurityChoiceField.Mode, $"must be None, Sign or SignAndEncrypt, got '{mode}'"));
        }
        else if (policy == "None" && mode is "Sign" or "SignAndEncrypt")
        {
            problems.Add(new(SecurityChoiceField.Mode, $"'{mode}' needs a security policy other than None"));
        }
        else if (policy is not ("None" or Auto) && mode == "None")
        {
            problems.Add(new(SecurityChoiceField.Mode, $"security policy {policy} needs Sign or SignAndEncrypt"));
        }

        return problems;
    }

    /// <summary>
    /// The mode an endpoint must have for a checked pair: the given one, else None under policy None and
    /// SignAndEncrypt under another policy; null (any mode) under <c>auto</c> without a mode.
    /// </summary>
    public static MessageSecurityMode? WantedMode(OpcUaSecurityPolicy policy, OpcUaSecurityMode? mode) => WantedMode(Spelling(policy), Spelling(mode));

    /// <summary>As <see cref="WantedMode(OpcUaSecurityPolicy, OpcUaSecurityMode?)"/>, for a checked pair as written.</summary>
    public static MessageSecurityMode? WantedMode(string policy, string? mode) =>
        mode is { Length: > 0 } ? Enum.Parse<MessageSecurityMode>(mode)
        : policy == Auto ? null
        : policy == "None" ? MessageSecurityMode.None
        : MessageSecurityMode.SignAndEncrypt;
}
