using MetaNotebooks.Data;

namespace MetaNotebooks.Tests.Data;

/// <summary>Resampling against Pillow 9.4: a random 6×7 image resized down to 3×4 and up to 10×9 with every filter.</summary>
public class ResamplingTests
{
    private const string Source = "ac2f75c043fbc36709d315f2245746d8588c3ac1e62757ae5851a5194d48099473d0f3c5fe4fafc05263";

    public static TheoryData<ResizeFilter, string, string> Pillow => new()
    {
        { ResizeFilter.Nearest, "67d3f25727ae5119c54fc063", "ac2f2f75c043fbfbc3ac2f2f75c043fbfbc3670909d315f224245746d8d8588c3ac1c1e646d8d8588c3ac1c1e6275757ae5851a5a519275757ae5851a5a5194d4848099473d0d0f3c5fefe4fafc0525263c5fefe4fafc0525263" },
        { ResizeFilter.Box, "53889b8f677b469a97679a9f", "ac2f2f75c043fbfbc3ac2f2f75c043fbfbc3670909d315f224245746d8d8588c3ac1c1e646d8d8588c3ac1c1e6275757ae5851a5a519275757ae5851a5a5194d4848099473d0d0f3c5fefe4fafc0525263c5fefe4fafc0525263" },
        { ResizeFilter.Bilinear, "627a87985c787193856a9295", "ac594e86c05fa9e8c3904556947c8699a098672863a915c1803557537487805c7b8390ad4094986f824d84bcbd2d5a8590625281874236485d6d7063909f704d4a2c28947aa7dcf395ab7b4ca4a2918d9dc5ebb064afbc835863" },
        { ResizeFilter.Bicubic, "60798999587b6a9589659796", "b7563d85cd44acffc89b374a9f7f849da5956b1964bb15d68526594e7e937b5b7e7f91bd38aaa8618b3781d3cd265491a15e448788262d3657756a5896a45f4d4e251e9475a4e2f59bbd7c3ba8ab8e88a1cbffbc58b1cc7e4559" },
        { ResizeFilter.Lanczos, "65778b9b5379679787659994", "bb632c8ed636a4ffcba22e40ab7b85a19e8d710f6eba15d4941a5e4a7f9d7155887c8bca32b1b25f902d78e2c72758a4a262368d891f261c4e7c61509fa4544c541c1f94799be7f39bc97430acb6898badc9ffc355b0d57d384f" },
    };

    [Theory]
    [MemberData(nameof(Pillow))]
    public void MatchesPillow(ResizeFilter filter, string down, string up)
    {
        var source = Convert.FromHexString(Source);
        var small = new byte[3 * 4];
        Resampling.Resize(source, 6, 7, small, 3, 4, filter);
        Assert.Equal(Convert.FromHexString(down), small);
        var large = new byte[10 * 9];
        Resampling.Resize(source, 6, 7, large, 10, 9, filter);
        Assert.Equal(Convert.FromHexString(up), large);
    }

    [Fact]
    public void TensorsAreResizedPlaneByPlane()
    {
        using var scope = NewDisposeScope();
        var plane = Convert.FromHexString(Source);
        var x = FromData([.. plane, .. plane.Select(v => (byte)(255 - v))], [1, 2, 6, 7]);
        var y = Resampling.Resize(x, 3, 4, ResizeFilter.Lanczos);
        Assert.Equal(new long[] { 1, 2, 3, 4 }, y.shape);
        var expected = Convert.FromHexString("65778b9b5379679787659994");
        Assert.Equal(expected, y.ToArray<byte>()[..12]);
        Assert.Throws<ArgumentException>(() => Resampling.Resize(x.to(ScalarType.Float32), 3, 4, ResizeFilter.Box));
    }
}
