using GrpcPlugins.Sdk.Server;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace GrpcPlugins.Sdk.Tests;

public sealed class StreamFeaturesTests
{
    [Fact]
    public void Find_ACollectionThatIsTheFeature_ReturnsTheCollectionItself()
    {
        var stream = new StreamThatIsItsFeature();
        stream.Set<IHttpResponseTrailersFeature>(new TrailersFeature());

        Assert.Same(stream, StreamFeatures.Find<IHttpResponseTrailersFeature>(stream));
    }

    [Fact]
    public void Find_ACollectionThatOnlyHoldsTheFeature_AsksTheCollection()
    {
        var trailers = new TrailersFeature();
        var features = new FeatureCollection();
        features.Set<IHttpResponseTrailersFeature>(trailers);

        Assert.Same(trailers, StreamFeatures.Find<IHttpResponseTrailersFeature>(features));
        Assert.Null(StreamFeatures.Find<IHttpConnectionFeature>(features));
    }

    [Fact]
    public void Required_AMissingFeature_NamesIt()
    {
        var error = Assert.Throws<InvalidOperationException>(() => StreamFeatures.Required<IHttpResponseTrailersFeature>(new FeatureCollection()));

        Assert.Contains(nameof(IHttpResponseTrailersFeature), error.Message, StringComparison.Ordinal);
    }

    private sealed class TrailersFeature : IHttpResponseTrailersFeature
    {
        public IHeaderDictionary Trailers { get; set; } = new HeaderDictionary();
    }

    /// <summary>Like Kestrel's HTTP/2 stream: the collection implements the feature itself.</summary>
    private sealed class StreamThatIsItsFeature : FeatureCollection, IHttpResponseTrailersFeature
    {
        public IHeaderDictionary Trailers { get; set; } = new HeaderDictionary();
    }
}
