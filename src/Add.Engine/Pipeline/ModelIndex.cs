using System.Text.Json;

namespace Add.Engine.Pipeline;

/// <summary>
/// A pipeline folder's <c>model_index.json</c> as diffusers writes it (<c>DiffusionPipeline.save_pretrained</c>): keys
/// starting with '_' are informational (<c>_class_name</c>, <c>_diffusers_version</c>, <c>_name_or_path</c>); a
/// component is <c>[library, class]</c>, or <c>[null, null]</c> when the pipeline was saved without it; any other
/// scalar is a pipeline flag (<c>requires_safety_checker</c>, <c>force_zeros_for_empty_prompt</c>) and is accepted.
/// <code>
/// {"_class_name": "StableDiffusionPipeline", "feature_extractor": ["transformers", "CLIPImageProcessor"],
///  "requires_safety_checker": false, "safety_checker": [null, null], "scheduler": ["diffusers", "EulerDiscreteScheduler"],
///  "text_encoder": ["transformers", "CLIPTextModel"], "tokenizer": ["transformers", "CLIPTokenizer"],
///  "unet": ["diffusers", "UNet2DConditionModel"], "vae": ["diffusers", "AutoencoderKL"]}
/// </code>
/// The five components the engine runs must be declared with a class it implements; the safety checker, feature
/// extractor and image encoder are ignored; any other component would change the image, so it is refused rather than
/// skipped. SDXL's second text encoder and tokenizer (<c>text_encoder_2</c> CLIPTextModelWithProjection, <c>tokenizer_2</c>)
/// come as a pair; an SDXL pipeline class (<see cref="NeedsSecondEncoder"/>) must declare both. An optional tiny decoder (<see cref="Optional"/>: <c>"vae_tiny":
/// ["diffusers", "AutoencoderTiny"]</c>, TAESD) is accepted: it changes nothing unless asked for (previews, the tiny
/// decoder choice). The scheduler's class is not checked here: the engine takes it from
/// <c>scheduler/scheduler_config.json</c>'s <c>_class_name</c>.
/// </summary>
public sealed record ModelIndex(string Path, string? PipelineClass, IReadOnlyDictionary<string, ModelIndex.Component> Components)
{
    /// <summary>A declared component: the library that defines it and its class ("transformers", "CLIPTextModel").</summary>
    public sealed record Component(string Library, string ClassName)
    {
        public override string ToString() => $"[\"{Library}\", \"{ClassName}\"]";
    }

    /// <summary>Components a diffusers Stable Diffusion folder may declare that the engine never runs.</summary>
    public static readonly IReadOnlySet<string> Ignored = new HashSet<string>(StringComparer.Ordinal) { "safety_checker", "feature_extractor", "image_encoder" };

    /// <summary>The components the engine runs and the classes it implements for each (null: any class).</summary>
    public static readonly IReadOnlyDictionary<string, string[]?> Needed = new Dictionary<string, string[]?>(StringComparer.Ordinal)
    {
        [PipelineLayout.Scheduler.Name] = null,
        [PipelineLayout.Tokenizer.Name] = ["CLIPTokenizer", "CLIPTokenizerFast", "WordTokenizer"],
        [PipelineLayout.TextEncoder.Name] = ["CLIPTextModel"],
        [PipelineLayout.Unet.Name] = ["UNet2DConditionModel"],
        [PipelineLayout.Vae.Name] = ["AutoencoderKL"],
    };

    /// <summary>Components the engine loads when declared and otherwise does without, with the classes it implements.</summary>
    public static readonly IReadOnlyDictionary<string, string[]> Optional = new Dictionary<string, string[]>(StringComparer.Ordinal)
    {
        [PipelineLayout.VaeTiny.Name] = ["AutoencoderTiny"],
        [PipelineLayout.TextEncoder2.Name] = ["CLIPTextModelWithProjection"],
        [PipelineLayout.Tokenizer2.Name] = ["CLIPTokenizer", "CLIPTokenizerFast"],
    };

    /// <summary>Whether a pipeline class conditions on two text encoders (diffusers' StableDiffusionXL* pipelines).</summary>
    public static bool NeedsSecondEncoder(string? pipelineClass) => pipelineClass?.StartsWith("StableDiffusionXL", StringComparison.Ordinal) == true;

    /// <summary>Whether text_encoder_2 and tokenizer_2 are declared (both are, or neither, after <see cref="Load"/>).</summary>
    public bool DualEncoder => Declares(PipelineLayout.TextEncoder2.Name);

    /// <summary>Whether the uncond rows of classifier-free guidance are zeros rather than the empty prompt's encoding
    /// (model_index.json's <c>force_zeros_for_empty_prompt</c>, diffusers' SDXL default true; SD pipelines have no such flag).</summary>
    public bool ForceZerosForEmptyPrompt { get; init; }

    /// <summary>Whether the optional component <paramref name="name"/> is declared.</summary>
    public bool Declares(string name) => Components.ContainsKey(name);

    /// <summary>The declared class of <paramref name="name"/> (a needed component is always declared after <see cref="Load"/>).</summary>
    public string ClassOf(string name) => Components[name].ClassName;

    /// <summary>Reads and checks &lt;folder&gt;/model_index.json.</summary>
    /// <exception cref="FileNotFoundException">the file is missing.</exception>
    /// <exception cref="InvalidDataException">it is not a JSON object, a component is malformed or a needed one is not
    /// declared; the message names the file and the key.</exception>
    /// <exception cref="NotSupportedException">a component's class, or a component, the engine does not implement.</exception>
    public static ModelIndex Load(string folder)
    {
        var path = PipelineLayout.ModelIndex(folder);
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path} not found: a diffusers pipeline folder declares its components there", path);
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllBytes(path)); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not valid JSON ({e.Message})", e); }
        catch (IOException e) { throw new InvalidDataException($"{path}: cannot be read ({e.Message})", e); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{path}: must be a JSON object, found {doc.RootElement.ValueKind}");
            string? pipelineClass = null;
            bool forceZeros = false;
            var components = new Dictionary<string, Component>(StringComparer.Ordinal);
            foreach (var entry in doc.RootElement.EnumerateObject())
            {
                if (entry.Name == "_class_name" && entry.Value.ValueKind == JsonValueKind.String) pipelineClass = entry.Value.GetString();
                if (entry.Name == "force_zeros_for_empty_prompt") forceZeros = entry.Value.ValueKind == JsonValueKind.True;
                if (entry.Name.StartsWith('_')) continue;
                switch (entry.Value.ValueKind)
                {
                    case JsonValueKind.Array:
                        if (ReadComponent(path, entry) is { } c && !Ignored.Contains(entry.Name)) components[entry.Name] = c;
                        break;
                    case JsonValueKind.Object:
                        throw new InvalidDataException($"{path}: '{entry.Name}' is an object; a component is [library, class] and a flag a plain value");
                    default:
                        break;   // a pipeline flag: requires_safety_checker, force_zeros_for_empty_prompt, …
                }
            }
            foreach (var (name, classes) in Needed)
            {
                if (!components.TryGetValue(name, out var c))
                    throw new InvalidDataException($"{path}: does not declare the '{name}' component (a pipeline here needs {string.Join(", ", Needed.Keys)})");
                if (classes is not null && !classes.Contains(c.ClassName))
                    throw new NotSupportedException($"{path}: '{name}' is {c}; supported: {string.Join(", ", classes)}");
            }
            foreach (var (name, classes) in Optional)
                if (components.TryGetValue(name, out var c) && !classes.Contains(c.ClassName))
                    throw new NotSupportedException($"{path}: '{name}' is {c}; supported: {string.Join(", ", classes)}");
            var extra = components.Keys.FirstOrDefault(k => !Needed.ContainsKey(k) && !Optional.ContainsKey(k));
            if (extra is not null)
                throw new NotSupportedException($"{path}: component '{extra}' {components[extra]} is not supported (this engine runs {string.Join(", ", Needed.Keys)}, and optionally {string.Join(", ", Optional.Keys)}; it would change the image, so it is not skipped)");
            string te2 = PipelineLayout.TextEncoder2.Name, tok2 = PipelineLayout.Tokenizer2.Name;
            bool needsPair = NeedsSecondEncoder(pipelineClass) || components.ContainsKey(te2) || components.ContainsKey(tok2);
            foreach (var name in new[] { te2, tok2 })
                if (needsPair && !components.ContainsKey(name))
                    throw new InvalidDataException($"{path}: does not declare the '{name}' component ("
                        + (NeedsSecondEncoder(pipelineClass) ? $"{pipelineClass} conditions on two text encoders: {te2} and {tok2} are needed)" : $"{te2} and {tok2} come as a pair)"));
            return new ModelIndex(path, pipelineClass, components) { ForceZerosForEmptyPrompt = forceZeros };
        }
    }

    /// <summary>[library, class] → the component; [null, null] → null (saved without it); anything else is an error.</summary>
    static Component? ReadComponent(string path, JsonProperty entry)
    {
        var items = entry.Value.EnumerateArray().ToList();
        if (items.Count == 2 && items.All(i => i.ValueKind == JsonValueKind.Null)) return null;
        if (items.Count == 2 && items.All(i => i.ValueKind == JsonValueKind.String && i.GetString()!.Length > 0))
            return new Component(items[0].GetString()!, items[1].GetString()!);
        throw new InvalidDataException($"{path}: component '{entry.Name}' is {entry.Value.GetRawText()}, expected [library, class] or [null, null]");
    }
}
