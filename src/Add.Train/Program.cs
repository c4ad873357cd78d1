using TorchSharp;
var a = torch.randn(3, 3);
Console.WriteLine((a.matmul(a)).sum().item<float>());
