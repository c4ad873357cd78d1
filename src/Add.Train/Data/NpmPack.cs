using System.Diagnostics;
using System.Security.Cryptography;

namespace Add.Train.Data;

/// <summary>Fetches package tarballs with the ordinary npm client (`npm pack NAME@VERSION`) and checks their SHA-512.</summary>
public static class NpmPack
{
    /// <summary>
    /// Returns the path of <paramref name="package"/>'s tarball in <paramref name="folder"/>, fetching it when absent or
    /// when the copy there fails its checksum. A tarball that still fails after fetching is an error, never used.
    /// </summary>
    public static string Fetch(EmojiPackage package, string folder, Action<string> log)
    {
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, package.TarballName);
        if (File.Exists(path) && Sha512Base64(path) == package.Sha512) return path;
        if (File.Exists(path)) { log($"{package.TarballName}: checksum mismatch, fetching again"); File.Delete(path); }

        log($"npm pack {package.Name}@{package.Version}");
        var psi = new ProcessStartInfo("npm")
        {
            ArgumentList = { "pack", $"{package.Name}@{package.Version}", "--pack-destination", folder, "--silent" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        Process process;
        try { process = Process.Start(psi)!; }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"cannot run npm ({e.Message}); install Node.js and npm to fetch the emoji data set", e);
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            process.WaitForExit();
            if (process.ExitCode != 0)
                throw new InvalidOperationException($"npm pack {package.Name}@{package.Version} failed (exit {process.ExitCode}): {stderr.Result.Trim()}");
        }
        if (!File.Exists(path)) throw new InvalidOperationException($"npm pack did not write {path}");
        Verify(path, package.Sha512);
        return path;
    }

    /// <summary>Fails unless the file's SHA-512 (base64) equals <paramref name="expected"/>.</summary>
    public static void Verify(string path, string expected)
    {
        var actual = Sha512Base64(path);
        if (actual != expected)
            throw new InvalidDataException($"{Path.GetFileName(path)}: SHA-512 {actual} does not match the pinned {expected}");
    }

    public static string Sha512Base64(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToBase64String(SHA512.HashData(stream));
    }
}
