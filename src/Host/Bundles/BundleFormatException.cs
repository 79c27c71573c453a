namespace GrpcPlugins.Host.Bundles;

/// <summary>A file that is not a bundle the host will open: not a .tar.gz, cut short, over its limits, or with an entry that would land outside its folder.</summary>
internal sealed class BundleFormatException(string message, Exception? inner = null) : Exception(message, inner);
