using System.Text;
using Microsoft.AspNetCore.Http;

namespace GrpcPlugins.Host.Admin;

/// <summary>
/// An admin request's body as text, refused when it is not UTF-8. A lenient read turns each byte
/// that is not into U+FFFD, so the host would save, and answer 200 for, a value nobody sent.
/// </summary>
internal static class RequestText
{
    private static readonly UTF8Encoding s_strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The body's text, or null when it is not valid UTF-8 (<see cref="NotUtf8"/> is then the answer).</summary>
    public static async Task<string?> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(request.Body, s_strict);
        try
        {
            return await reader.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }

    /// <summary>The answer to a body that is not UTF-8: nothing was <paramref name="done"/>.</summary>
    public static IResult NotUtf8(string done) => Results.Problem(
        title: "Body is not UTF-8",
        detail: $"Nothing was {done}: the body holds bytes that are not UTF-8. Send JSON encoded as UTF-8 (a string's other characters escaped as \\uXXXX if need be).",
        statusCode: 400);
}
