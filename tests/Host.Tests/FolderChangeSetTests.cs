using GrpcPlugins.Host.Registry;

namespace GrpcPlugins.Host.Tests;

public sealed class FolderChangeSetTests
{
    [Fact]
    public void AFileChangedAsThePluginStarts_InTwoReloadsInARow_IsThePluginsOwn_AndNoLongerReloadsIt()
    {
        var changes = new FolderChangeSet();

        changes.Note("started.log", asItStarted: true, timestamp: 10);
        var first = changes.Take();
        changes.Note("started.log", asItStarted: true, timestamp: 20);
        var second = changes.Take();
        var noted = changes.Note("started.log", asItStarted: true, timestamp: 30);

        Assert.Equal(["started.log"], first.Changed);
        Assert.Empty(first.FoundToBeThePlugins);
        Assert.Empty(second.Changed);
        Assert.Equal(["started.log"], second.FoundToBeThePlugins);
        Assert.False(noted);
        Assert.Equal(["started.log"], changes.Ignored);
        Assert.Null(changes.FirstChange);
    }

    [Fact]
    public void AnEditBetweenStarts_BreaksTheRow_SoAnAuthorSavingTheSameFileIsNeverTakenForThePlugin()
    {
        var changes = new FolderChangeSet();

        changes.Note("plugin.py", asItStarted: true, timestamp: 1);
        changes.Take();
        changes.Note("plugin.py", asItStarted: false, timestamp: 2);
        changes.Take();
        changes.Note("plugin.py", asItStarted: true, timestamp: 3);
        var third = changes.Take();

        Assert.Equal(["plugin.py"], third.Changed);
        Assert.Empty(third.FoundToBeThePlugins);
        Assert.Empty(changes.Ignored);
    }

    [Fact]
    public void ABuildPublishedWithThePluginsOwnFile_StillReloads_ForTheBuildsFiles()
    {
        var changes = new FolderChangeSet();
        changes.Note("cache.db", asItStarted: true, timestamp: 1);
        changes.Take();

        changes.Note("cache.db", asItStarted: true, timestamp: 5);
        changes.Note("Plugin.dll", asItStarted: true, timestamp: 6);
        var firstChange = changes.FirstChange;
        var taken = changes.Take();

        Assert.Equal(5, firstChange);
        Assert.Equal(["Plugin.dll"], taken.Changed);
        Assert.Equal(["cache.db"], taken.FoundToBeThePlugins);
    }
}
