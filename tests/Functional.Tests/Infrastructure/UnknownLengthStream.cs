namespace GrpcPlugins.Functional.Tests.Infrastructure;

/// <summary>A request body without a declared length (HttpClient sends it chunked): the host cannot know its size up front.</summary>
internal sealed class UnknownLengthStream(byte[] data) : MemoryStream(data)
{
    public override bool CanSeek => false;
}
