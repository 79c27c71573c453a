using Microsoft.AspNetCore.Http.Features;

namespace GrpcPlugins.Sdk.Server;

/// <summary>
/// A stream's features, found by cast first: Kestrel's HTTP/2 stream implements the ones a
/// call uses itself. <see cref="IFeatureCollection.Get{TFeature}"/> is a generic virtual
/// method, which NativeAOT resolves through its type loader the first time each feature is
/// asked for (a worker's first call paid ~0.4 ms for it) and through a hash lookup on every
/// call after. The lookup stays as the fallback, so another server works the same.
/// </summary>
internal static class StreamFeatures
{
    public static TFeature? Find<TFeature>(IFeatureCollection features)
        where TFeature : class =>
        features as TFeature ?? features.Get<TFeature>();

    public static TFeature Required<TFeature>(IFeatureCollection features)
        where TFeature : class =>
        Find<TFeature>(features) ?? throw new InvalidOperationException($"the server gives this stream no {typeof(TFeature).Name}");
}
