namespace Add.CommandLine;

/// <summary>Bad input from the user: the command prints the message as one line and exits with code 2.</summary>
public sealed class UsageException(string message) : Exception(message);
