using GrpcPlugins.Host.Bundles;

namespace GrpcPlugins.BundleTool.Checking;

/// <summary>
/// A bundle given to check instead of a folder (a vendor's release, before an admin installs
/// it): extracted to a temp directory as an install extracts it, verified against the trusted
/// keys given, then its folder checked as any other; the extraction goes afterwards.
/// </summary>
internal static class BundleCheck
{
    public static async Task<bool> RunAsync(CheckRequest request, TimeProvider time, Action<CheckResult> report, CancellationToken cancellationToken)
    {
        var address = BundleArchive.Address(request.Folder);
        string extracted;
        try
        {
            extracted = BundleArchive.Extract(request.Folder, BundleLimits.Default);
        }
        catch (BundleFormatException ex)
        {
            report(CheckResult.Fail("bundle", $"{address}: {ex.Message}"));
            return false;
        }

        try
        {
            if (request.TrustDirectory is null)
            {
                report(CheckResult.Warn("bundle", $"{address}: its signature was not checked; pass --trust <directory of publisher keys> to check it as a host would"));
                // Unchecked, it is run as an unsigned folder; a host would refuse a signature it cannot check.
                var signature = Path.Combine(extracted, BundleManifest.Directory);
                if (Directory.Exists(signature))
                {
                    Directory.Delete(signature, recursive: true);
                }
            }
            else if (BundleVerifier.Verify(extracted, TrustStore.Load(request.TrustDirectory), out var signed) is { Count: > 0 } problems)
            {
                report(CheckResult.Fail("bundle", $"{address}: a host trusting {request.TrustDirectory} refuses it: {string.Join(" ", problems)}"));
                return false;
            }
            else if (signed is null)
            {
                report(CheckResult.Fail("bundle", $"{address}: unsigned (no .bundle/ folder); sign it with 'GrpcPlugins.BundleTool pack'"));
                return false;
            }
            else
            {
                report(CheckResult.Pass("bundle", $"{address}: {signed.PluginId} {signed.Version}, {signed.Files.Count} files matching their signed digests, signed by a key in {request.TrustDirectory}"));
            }

            return await new PluginCheck(request with { Folder = extracted }, time).RunAsync(report, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Directory.Delete(extracted, recursive: true);
        }
    }
}
