using Gateway.Drivers.OpcUa.Encoding;

namespace Gateway.Drivers.OpcUa.Channel;

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

    /// <summary>What is wrong with the pair (an unknown policy, then a mode problem); empty when it can be used.</summary>
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
    public static MessageSecurityMode? WantedMode(string policy, string? mode) =>
        mode is { Length: > 0 } ? Enum.Parse<MessageSecurityMode>(mode)
        : policy == Auto ? null
        : policy == "None" ? MessageSecurityMode.None
        : MessageSecurityMode.SignAndEncrypt;
}
