import { Command, Option } from 'commander';
import { collectEndpoint, intInRange, loggingOptions, MAX_JOBS, modelOptions, positiveInt, secondsInRange, modelRunOptions } from './options.js';
import { NO_ALIGNMENT } from '../pipeline/choose-aligner.js';
import { UsageError } from '../errors.js';
import { parseLanguagePolicy } from '../runner/request/languages.js';
import { RUNNER_KINDS } from '../runner/runner.js';
import { readDataset } from '../eval/dataset.js';
import { runEval } from '../eval/run-eval.js';
import { createLog, type LogLevel } from '../util/log.js';

export function evalCommand(): Command {
  const cmd = new Command('eval')
    .description('word error rate, latency and real-time factor on a LibriSpeech-style folder (*.flac + *.trans.txt) or a manifest.jsonl ({"audio","text"} per line)')
    .argument('<dataset>', 'folder or manifest.jsonl')
    .addOption(new Option('-o, --output <file>', 'per-utterance results as JSON lines'))
    .addOption(new Option('--limit <n>', 'only the first n utterances').argParser(positiveInt('--limit')))
    .addOption(new Option('-l, --language <auto|name|list>', 'as for transcribe').env('QWEN3ASR_LANGUAGE'))
    .addOption(new Option('--context <text>', 'names and jargon to help recognition'))
    .addOption(new Option('--runner <kind>', 'server or subprocess').choices(RUNNER_KINDS).env('QWEN3ASR_RUNNER'))
    .addOption(new Option('--endpoint <url>', 'already-running server(s) to use instead of a local model').argParser(collectEndpoint).default([] as string[], 'none'))
    .addOption(new Option('-t, --threads <n>', 'CPU threads').argParser(positiveInt('--threads')).env('QWEN3ASR_THREADS'))
    .addOption(new Option('-j, --jobs <n>', 'windows transcribed at once').argParser(intInRange('--jobs', MAX_JOBS)).env('QWEN3ASR_JOBS'))
    .addOption(new Option('--window-seconds <s>', 'longest window').argParser(secondsInRange('--window-seconds', 1, 30)))
    .addOption(new Option('--no-guard', 'skip the quality guards'))
    .addOption(new Option('--json', 'print the summary as JSON'))
    .addOption(new Option('--ffmpeg <path>', 'ffmpeg binary to decode inputs').env('QWEN3ASR_FFMPEG'));
  for (const o of [...modelOptions(), ...loggingOptions()]) cmd.addOption(o);
  cmd.action(async (dataset: string, opts: Record<string, unknown>) => {
    if (opts.quiet && opts.verbose) throw new UsageError('--quiet and --verbose contradict each other', 'keep one');
    parseLanguagePolicy((opts.language as string | undefined) ?? null);
    const level: LogLevel = opts.quiet ? 'quiet' : opts.verbose ? 'verbose' : 'normal';
    const all = readDataset(dataset);
    const utterances = opts.limit ? all.slice(0, opts.limit as number) : all;
    const options = {
      ...modelRunOptions(opts),
      ffmpeg: (opts.ffmpeg as string | undefined) ?? null,
      backend: 'auto' as const,
      llamaCppSource: null,
      log: level,
      // WER needs the words, not their times
      align: NO_ALIGNMENT,
      cues: {},
    };
    const log = createLog(level);
    const s = await runEval(utterances, options, (opts.output as string | undefined) ?? null, log);
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
    } else {
      process.stdout.write(
        `WER ${(s.wer * 100).toFixed(2)}% (${s.substitutions} substitutions, ${s.deletions} deletions, ${s.insertions} insertions / ${s.words} words) ` +
          `over ${s.utterances} utterances, ${s.audioSeconds.toFixed(1)} s of audio; mean latency ${s.meanLatencyMs} ms, RTF ${s.rtf.toFixed(3)}\n`,
      );
    }
  });
  return cmd;
}
