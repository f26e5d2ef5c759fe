using FaceVerification.Onnx;

if (args.Length != 1 || !Directory.Exists(args[0]))
{
    Console.Error.WriteLine("usage: FaceVerification.Onnx <folder>   (the folder `dotnet run --project samples/FaceVerification -c Release -- --onnx <folder>` wrote)");
    return 2;
}
var result = OnnxVerificationApp.Run(Path.GetFullPath(args[0]));
return result.AllEqual ? 0 : 1;
