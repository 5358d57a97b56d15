import fs from 'node:fs';
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { FORMATS, type Format } from '../writers/index.js';
import { collectEndpoint, intInRange, wholeNumber, loggingOptions, MAX_JOBS, modelOptions, positiveInt, secondsInRange, modelRunOptions } from './options.js';
import { UsageError } from '../errors.js';
import { parseLanguagePolicy } from '../runner/request/languages.js';
import { RUNNER_KINDS } from '../runner/runner.js';
import { ALIGN_MODES, type AlignMode } from '../pipeline/choose-aligner.js';
import { transcribeFiles, type Output, type TranscribeOptions } from '../pipeline/transcribe-files.js';

function formatList(value: string): Format[] {
  const parts = value.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  if (parts.length === 0) throw new InvalidArgumentError('give at least one format: txt, srt, vtt or json.');
  for (const p of parts) {
    if (!(FORMATS as readonly string[]).includes(p)) {
      throw new InvalidArgumentError(`unknown format '${p}': use txt, srt, vtt or json (several with commas: srt,vtt).`);
    }
  }
  return [...new Set(parts)] as Format[];
}

export function transcribeCommand(): Command {
  const cmd = new Command('transcribe')
    .description('transcribe audio or video files (the default command: `qwen3asr talk.mp4` is `qwen3asr transcribe talk.mp4`)')
    .argument('<inputs...>', "audio or video files, or '-' for stdin")
    .addOption(new Option('-f, --format <list>', 'output formats, comma-separated: txt,srt,vtt,json').argParser(formatList).default(['txt'] as Format[], 'txt'))
    .addOption(new Option('-o, --output-dir <dir>', "folder for the outputs (default: beside each input); a file name ending in .txt/.srt/.vtt/.json for one input; '-' writes the one format to stdout"))
    .addOption(new Option('-l, --language <auto|name|list>', 'auto (detect), one language to force (English, Chinese, ... or en, zh, ...), or a list to detect among (en,fr)').env('QWEN3ASR_LANGUAGE'))
    .addOption(new Option('--context <text>', 'names and jargon to help recognition (given to the model as the system prompt)'))
    .addOption(new Option('-t, --threads <n>', 'CPU threads per model run').argParser(positiveInt('--threads')).env('QWEN3ASR_THREADS'))
    .addOption(new Option('-j, --jobs <n>', 'windows transcribed at once').argParser(intInRange('--jobs', MAX_JOBS)).env('QWEN3ASR_JOBS'))
    .addOption(new Option('--runner <kind>', 'how the model runs here: server (one warm llama-server, windows batched) or subprocess (one llama-mtmd-cli per window)').choices(RUNNER_KINDS).env('QWEN3ASR_RUNNER'))
    .addOption(new Option('--endpoint <url>', 'send windows to an already-running llama-server or OpenAI-compatible server (repeatable: windows are spread over them)').argParser(collectEndpoint).default([] as string[], 'none'))
    .addOption(new Option('--window-seconds <s>', 'longest window given to the model at once (default: the encoder window, 8 s)').argParser(secondsInRange('--window-seconds', 1, 30)))
    .addOption(new Option('--align <mode>', 'time cues by the words (Qwen3-ForcedAligner): auto (when an aligner is at hand: --aligner, or `models pull aligner`), on (fetch it if needed), off').choices(ALIGN_MODES).env('QWEN3ASR_ALIGN').default('auto'))
    .addOption(new Option('--aligner <name|path>', 'forced aligner: a name, a text GGUF path (its mmproj beside it) or a Qwen3-ForcedAligner checkpoint folder').env('QWEN3ASR_ALIGNER'))
    .addOption(new Option('--max-chars <n>', 'most characters in one cue (spaces not counted)').argParser(positiveInt('--max-chars')))
    .addOption(new Option('--max-words <n>', 'most words in one cue').argParser(positiveInt('--max-words')))
    .addOption(new Option('--highlight-words', 'vtt: karaoke-style cues, each word tagged with when it is spoken (needs aligned words)'))
    .addOption(new Option('--no-guard', 'skip the per-window quality guards (loops, truncation, implausible text): one model call per window, for benchmarking'))
    .addOption(new Option('--force', 'overwrite existing outputs'))
    .addOption(new Option('--fail-fast', 'stop a batch at the first file that fails (default: report it, go on, exit 1 at the end)'))
    .addOption(new Option('--json', 'print a machine-readable summary of the run on stdout'))
    .addOption(new Option('--ffmpeg <path>', 'ffmpeg binary to decode inputs').env('QWEN3ASR_FFMPEG'))
    .addOption(new Option('--audio-stream <n>', 'which audio stream of a file with several (0 = the first, as ffmpeg counts them: 0:a:N)').argParser(wholeNumber('--audio-stream')))
    .addOption(new Option('--backend <name>', 'llama.cpp backend for the first-run build').choices(['auto', 'cpu', 'cuda', 'metal', 'vulkan']).env('QWEN3ASR_BACKEND').default('auto'))
    .addOption(new Option('--llama-cpp-source <path>', 'llama.cpp v0.5.0 source (checkout, git bundle or tarball) for the first-run build').env('QWEN3ASR_LLAMA_CPP_SOURCE'));
  for (const o of [...modelOptions(), ...loggingOptions()]) cmd.addOption(o);
  cmd.action(async (inputs: string[], opts: Record<string, unknown>, command: Command) => {
    const options = validate(inputs, opts, command.getOptionValueSource('format') !== 'default');
    process.exitCode = await transcribeFiles(options);
  });
  return cmd;
}

/**
 * What `-o` names. `-`: stdout. A path ending in .txt/.srt/.vtt/.json that is not a folder: the one
 * output file of the one input (its format, unless -f says the same). Anything else: a folder.
 */
function outputFor(value: string | undefined, inputs: readonly string[], formats: Format[], formatGiven: boolean): { output: Output; formats: Format[] } {
  if (value === undefined) return { output: { kind: 'files', dir: null }, formats };
  const many = inputs.length > 1 ? `${inputs.length} inputs were given` : null;
  if (value === '-') {
    if (formats.length !== 1) {
      throw new UsageError(`-o - writes one format to stdout, but ${formats.length} were asked (${formats.join(',')})`, 'pick one with -f, or give -o a folder');
    }
    // several documents one after another would be no well-formed srt or json
    if (many) throw new UsageError(`-o - writes one transcript to stdout, but ${many}`, 'give -o a folder, or run once per input');
    return { output: { kind: 'stdout' }, formats };
  }
  const stat = fs.statSync(value, { throwIfNoEntry: false });
  if (stat?.isDirectory()) return { output: { kind: 'files', dir: value }, formats };
  const ext = path.extname(value).slice(1).toLowerCase();
  const named = (FORMATS as readonly string[]).includes(ext) ? (ext as Format) : null;
  if (named === null) {
    if (stat) throw new UsageError(`-o ${value} is a file, not a folder`, 'give -o a folder, or a file name ending in .txt, .srt, .vtt or .json');
    return { output: { kind: 'files', dir: value }, formats };
  }
  if (many) throw new UsageError(`-o ${value} names one output file, but ${many}`, 'give -o a folder for a batch');
  if (formatGiven && (formats.length !== 1 || formats[0] !== named)) {
    throw new UsageError(`-o ${value} is a .${named} file, but -f asks for ${formats.join(',')}`, `drop -f, or give -o a folder for several formats`);
  }
  return { output: { kind: 'file', path: value }, formats: [named] };
}

function validate(inputs: string[], opts: Record<string, unknown>, formatGiven: boolean): TranscribeOptions {
  const { output, formats } = outputFor(opts.outputDir as string | undefined, inputs, opts.format as Format[], formatGiven);
  const toStdout = output.kind === 'stdout';
  if (toStdout && opts.json) throw new UsageError('-o - and --json both want stdout', 'drop one of them');
  if (inputs.filter((i) => i === '-').length > 1) throw new UsageError("stdin ('-') can be read only once");
  parseLanguagePolicy((opts.language as string | undefined) ?? null); // a bad name is a usage error before any work
  if (opts.quiet && opts.verbose) throw new UsageError('--quiet and --verbose contradict each other', 'keep one');
  // --highlight-words changes only vtt, and only with aligned words: said here rather than ignored.
  if (opts.highlightWords && !formats.includes('vtt')) {
    throw new UsageError(`--highlight-words tags the words of vtt cues, but -f asks for ${formats.join(',')}`, 'add vtt to -f, or drop --highlight-words');
  }
  if (opts.highlightWords && opts.align === 'off') {
    throw new UsageError("--highlight-words needs the words' times, and --align off turns them off", 'drop one of them');
  }
  return {
    inputs,
    formats,
    output,
    ...modelRunOptions(opts),
    force: Boolean(opts.force),
    failFast: Boolean(opts.failFast),
    json: Boolean(opts.json),
    ffmpeg: (opts.ffmpeg as string | undefined) ?? null,
    audioStream: (opts.audioStream as number | undefined) ?? null,
    align: { mode: opts.align as AlignMode, aligner: (opts.aligner as string | undefined) ?? null },
    cues: { maxChars: opts.maxChars as number | undefined, maxWords: opts.maxWords as number | undefined },
    highlightWords: Boolean(opts.highlightWords),
    backend: opts.backend as TranscribeOptions['backend'],
    llamaCppSource: (opts.llamaCppSource as string | undefined) ?? null,
    log: opts.quiet ? 'quiet' : opts.verbose ? 'verbose' : 'normal',
  };
}
