namespace Add.Engine.SafeTensors;

/// <summary>A safetensors file breaks a promise of the format. The message names the file (the path as given) and the problem;
/// a file that is not safetensors at all says "not a safetensors file".</summary>
public sealed class SafeTensorsFormatException(string message, Exception? inner = null) : FormatException(message, inner);
