using GrpcPlugins.Host.Bundles;

namespace GrpcPlugins.Host.Tests;

/// <summary>Copies to a real file on the real disk, with a reserve set from its real free space.</summary>
public sealed class DiskRoomTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("gpt-room-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task ABodyOfUnknownLength_IsRefusedOnceItsNextWindowWouldCutIntoTheReserve_NotWhenTheDiskIsFull()
    {
        const long room = 48L << 20;
        var path = Path.Combine(_directory, "upload");
        var reserve = new DriveInfo(_directory).AvailableFreeSpace - room;
        var endless = new ZeroStream(1L << 40);
        NotEnoughRoomException error;

        await using (var file = File.Create(path))
        {
            error = await Assert.ThrowsAsync<NotEnoughRoomException>(() => DiskRoom.CopyAsync(endless, file, _directory, reserve, "the bundle", CancellationToken.None));
        }

        Assert.StartsWith($"not enough room: the disk of {_directory} has ", error.Message, StringComparison.Ordinal);
        Assert.Matches(@"the bundle had reached [\d.]+ MiB and was still coming", error.Message);
        Assert.Contains("PluginHost:MinFreeDiskMiB", error.Message, StringComparison.Ordinal);
        // Within a window of the room it had (less if another writer took some meanwhile), a terabyte short of its end.
        Assert.InRange(new FileInfo(path).Length, 0, room + DiskRoom.CopyWindowBytes);
    }

    [Fact]
    public async Task ABodyTheDiskHasRoomFor_IsCopiedWhole()
    {
        var path = Path.Combine(_directory, "upload");

        await using (var file = File.Create(path))
        {
            await DiskRoom.CopyAsync(new ZeroStream(DiskRoom.CopyWindowBytes + 12_345), file, _directory, reserve: 0, "the bundle", CancellationToken.None);
        }

        Assert.Equal(DiskRoom.CopyWindowBytes + 12_345, new FileInfo(path).Length);
    }

    /// <summary>Zeros up to a length, never held in memory, without a length of its own to declare.</summary>
    private sealed class ZeroStream(long length) : Stream
    {
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = (int)Math.Min(count, length - _position);
            Array.Clear(buffer, offset, n);
            _position += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
