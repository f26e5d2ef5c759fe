using System.Text.Json;

namespace Microsoft.ML.FaceLoss.Tests.Backbones;

/// <summary>
/// An independent float64 implementation of face-api's FaceRecognitionNet (dlib's ResNet-29) in
/// plain loops over height x width x channels arrays, written from face-api's sources
/// (<c>src/faceRecognitionNet</c>): its own decoding of the weight files, TensorFlow's padding rules,
/// no TorchSharp. It checks the library's network, not the other way round.
/// </summary>
internal sealed class DlibReference
{
    private readonly Dictionary<string, (int[] Shape, double[] Values)> _weights = new();

    public DlibReference(string folder)
    {
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "face_recognition_model-weights_manifest.json")));
        foreach (var group in manifest.RootElement.EnumerateArray())
        {
            var bytes = group.GetProperty("paths").EnumerateArray().SelectMany(p => File.ReadAllBytes(Path.Combine(folder, p.GetString()!))).ToArray();
            int at = 0;
            foreach (var w in group.GetProperty("weights").EnumerateArray())
            {
                var shape = w.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()).ToArray();
                int n = shape.Aggregate(1, (a, b) => a * b);
                var values = new double[n];
                if (w.TryGetProperty("quantization", out var q))
                {
                    Assert.Equal("uint8", q.GetProperty("dtype").GetString());
                    double scale = q.GetProperty("scale").GetDouble(), min = q.GetProperty("min").GetDouble();
                    for (int i = 0; i < n; i++) values[i] = bytes[at + i] * scale + min;
                    at += n;
                }
                else
                {
                    for (int i = 0; i < n; i++) values[i] = BitConverter.ToSingle(bytes, at + 4 * i);
                    at += 4 * n;
                }
                _weights[w.GetProperty("name").GetString()!] = (shape, values);
            }
            Assert.Equal(bytes.Length, at);
        }
    }

    /// <summary>A feature map: height x width x channels, channels fastest.</summary>
    private sealed record Map(int H, int W, int C, double[] V)
    {
        public double this[int y, int x, int c] => V[(y * W + x) * C + c];
    }

    /// <summary>The 128 descriptor values of one image given as planar RGB pixels in [-1, 1] (3 x 150 x 150).</summary>
    public double[] Descriptor(float[] planarRgb)
    {
        const int size = 150;
        double[] mean = { 122.782, 117.001, 104.298 };
        var input = new double[size * size * 3];
        for (int c = 0; c < 3; c++)
            for (int p = 0; p < size * size; p++)
                input[p * 3 + c] = ((planarRgb[c * size * size + p] + 1) * 127.5 - mean[c]) / 255;
        var x = new Map(size, size, 3, input);

        x = ConvLayer(x, "conv32_down", 2, same: false, relu: true);
        x = MaxPool(x, 3, 2);
        foreach (var b in new[] { "conv32_1", "conv32_2", "conv32_3" }) x = Residual(x, b);
        x = ResidualDown(x, "conv64_down");
        foreach (var b in new[] { "conv64_1", "conv64_2", "conv64_3" }) x = Residual(x, b);
        x = ResidualDown(x, "conv128_down");
        foreach (var b in new[] { "conv128_1", "conv128_2" }) x = Residual(x, b);
        x = ResidualDown(x, "conv256_down");
        foreach (var b in new[] { "conv256_1", "conv256_2" }) x = Residual(x, b);
        x = ResidualDown(x, "conv256_down_out");

        var pooled = new double[x.C];
        for (int y = 0; y < x.H; y++)
            for (int i = 0; i < x.W; i++)
                for (int c = 0; c < x.C; c++)
                    pooled[c] += x[y, i, c] / (x.H * x.W);
        var (fcShape, fc) = _weights["fc"];
        var result = new double[fcShape[1]];
        for (int o = 0; o < fcShape[1]; o++)
            for (int c = 0; c < fcShape[0]; c++)
                result[o] += pooled[c] * fc[c * fcShape[1] + o];
        return result;
    }

    private Map Residual(Map x, string name)
    {
        var y = ConvLayer(ConvLayer(x, name + "/conv1", 1, same: true, relu: true), name + "/conv2", 1, same: true, relu: false);
        return new Map(y.H, y.W, y.C, y.V.Select((v, i) => Math.Max(0, v + x.V[i])).ToArray());
    }

    private Map ResidualDown(Map x, string name)
    {
        var y = ConvLayer(ConvLayer(x, name + "/conv1", 2, same: false, relu: true), name + "/conv2", 1, same: true, relu: false);
        // 2x2 average pooling, valid padding.
        int ph = x.H / 2, pw = x.W / 2;
        var pooled = new double[ph * pw * x.C];
        for (int i = 0; i < ph; i++)
            for (int j = 0; j < pw; j++)
                for (int c = 0; c < x.C; c++)
                    pooled[(i * pw + j) * x.C + c] = (x[2 * i, 2 * j, c] + x[2 * i, 2 * j + 1, c] + x[2 * i + 1, 2 * j, c] + x[2 * i + 1, 2 * j + 1, c]) / 4;
        // face-api appends a zero row and column to the convolution's output where it is smaller, and zero channels to the pooled input.
        var sum = new double[ph * pw * y.C];
        for (int i = 0; i < ph; i++)
            for (int j = 0; j < pw; j++)
                for (int c = 0; c < y.C; c++)
                {
                    double conv = i < y.H && j < y.W ? y[i, j, c] : 0;
                    double pool = c < x.C ? pooled[(i * pw + j) * x.C + c] : 0;
                    sum[(i * pw + j) * y.C + c] = Math.Max(0, conv + pool);
                }
        return new Map(ph, pw, y.C, sum);
    }

    private static Map MaxPool(Map x, int k, int stride)
    {
        int oh = (x.H - k) / stride + 1, ow = (x.W - k) / stride + 1;
        var v = new double[oh * ow * x.C];
        for (int i = 0; i < oh; i++)
            for (int j = 0; j < ow; j++)
                for (int c = 0; c < x.C; c++)
                {
                    double m = double.NegativeInfinity;
                    for (int a = 0; a < k; a++)
                        for (int b = 0; b < k; b++)
                            m = Math.Max(m, x[i * stride + a, j * stride + b, c]);
                    v[(i * ow + j) * x.C + c] = m;
                }
        return new Map(oh, ow, x.C, v);
    }

    /// <summary>conv2d (TensorFlow 'same' or 'valid'), + bias, * scale weights + scale biases, optional ReLU.</summary>
    private Map ConvLayer(Map x, string name, int stride, bool same, bool relu)
    {
        var (shape, filters) = _weights[name + "/conv/filters"];
        var bias = _weights[name + "/conv/bias"].Values;
        var scaleW = _weights[name + "/scale/weights"].Values;
        var scaleB = _weights[name + "/scale/biases"].Values;
        int k = shape[0], inC = shape[2], outC = shape[3];
        Assert.Equal(x.C, inC);
        int oh, ow, padTop, padLeft;
        if (same)
        {
            oh = (x.H + stride - 1) / stride;
            ow = (x.W + stride - 1) / stride;
            padTop = Math.Max(0, ((oh - 1) * stride + k - x.H) / 2);
            padLeft = Math.Max(0, ((ow - 1) * stride + k - x.W) / 2);
        }
        else
        {
            (oh, ow, padTop, padLeft) = ((x.H - k) / stride + 1, (x.W - k) / stride + 1, 0, 0);
        }
        var v = new double[oh * ow * outC];
        var acc = new double[outC];
        for (int i = 0; i < oh; i++)
            for (int j = 0; j < ow; j++)
            {
                Array.Clear(acc);
                for (int a = 0; a < k; a++)
                {
                    int yy = i * stride + a - padTop;
                    if (yy < 0 || yy >= x.H) continue;
                    for (int b = 0; b < k; b++)
                    {
                        int xx = j * stride + b - padLeft;
                        if (xx < 0 || xx >= x.W) continue;
                        int inputAt = (yy * x.W + xx) * inC, filterAt = (a * k + b) * inC * outC;
                        for (int c = 0; c < inC; c++)
                        {
                            double value = x.V[inputAt + c];
                            int row = filterAt + c * outC;
                            for (int o = 0; o < outC; o++) acc[o] += value * filters[row + o];
                        }
                    }
                }
                for (int o = 0; o < outC; o++)
                {
                    double r = (acc[o] + bias[o]) * scaleW[o] + scaleB[o];
                    v[(i * ow + j) * outC + o] = relu ? Math.Max(0, r) : r;
                }
            }
        return new Map(oh, ow, outC, v);
    }
}
