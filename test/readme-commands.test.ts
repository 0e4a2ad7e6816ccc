// Every `autogan …` / `npx autogan …` command line that the README (and docs/**/*.md) shows in a
// fenced code block must be one the CLI accepts: its subcommand path exists, every option is declared
// on that command or an ancestor, required arguments and options are there, nothing is left over.
// Checked with commander's own parser on the real program from buildProgram(), whose actions never
// run: a preAction hook stops each parse just before the action would start.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type Command, CommanderError } from 'commander';
import { buildProgram } from '../cli/main';
import { projectRoot } from '../core/paths';

/** One command line found in a Markdown file. */
export interface DocCommand {
  file: string;
  /** 1-based line of the command's first physical line. */
  line: number;
  /** The command as written (continuations joined). */
  text: string;
  /** What follows `autogan`: subcommands, options, arguments. */
  argv: string[];
}

/** Lines inside fenced code blocks (``` or ~~~), with their 1-based line numbers. */
function fencedLines(markdown: string): Array<Array<{ line: number; text: string }>> {
  const blocks: Array<Array<{ line: number; text: string }>> = [];
  let open: { fence: string; indent: number; lines: Array<{ line: number; text: string }> } | undefined;
  markdown.split('\n').forEach((raw, i) => {
    const m = /^( *)(`{3,}|~{3,})(.*)$/.exec(raw);
    if (open) {
      if (m && m[2][0] === open.fence[0] && m[2].length >= open.fence.length && m[3].trim() === '') {
        blocks.push(open.lines);
        open = undefined;
      } else
        open.lines.push({ line: i + 1, text: raw.slice(Math.min(open.indent, /^ */.exec(raw)![0].length)) });
    } else if (m && !(m[2][0] === '`' && m[3].includes('`'))) {
      open = { fence: m[2], indent: m[1].length, lines: [] };
    }
  });
  if (open) blocks.push(open.lines); // an unclosed fence runs to the end of the document
  return blocks;
}

/** Physical lines joined where one ends with a backslash; each keeps its first line number. */
function joinContinuations(
  lines: Array<{ line: number; text: string }>,
): Array<{ line: number; text: string }> {
  const out: Array<{ line: number; text: string }> = [];
  let pending: { line: number; text: string } | undefined;
  for (const l of lines) {
    const cur = pending ? { line: pending.line, text: pending.text + l.text } : { ...l };
    if (/(^|[^\\])(\\\\)*\\$/.test(cur.text)) pending = { line: cur.line, text: cur.text.slice(0, -1) };
    else {
      out.push(cur);
      pending = undefined;
    }
  }
  if (pending) out.push(pending);
  return out;
}

/**
 * A shell line as simple commands (split at `;`, `&&`, `||`, `|`, `&`), each a list of words with
 * quotes removed; comments and redirections (`> f`, `2>&1`, `< f`) are dropped. A `<placeholder>`
 * (`<workflow-id>`, `<pool node>`) is part of a word, not a redirection.
 */
export function shellCommands(line: string): string[][] {
  const commands: string[][] = [];
  let words: string[] = [];
  let word: string | undefined;
  let skipNext = false; // the next word is a redirection's target
  const endWord = () => {
    if (word !== undefined) {
      if (skipNext) skipNext = false;
      else words.push(word);
    }
    word = undefined;
  };
  const endCommand = () => {
    endWord();
    if (words.length) commands.push(words);
    words = [];
  };
  let i = 0;
  while (i < line.length) {
    const c = line[i];
    const rest = line.slice(i);
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      const stop = end === -1 ? line.length : end;
      word = (word ?? '') + line.slice(i + 1, stop);
      i = stop + 1;
    } else if (c === '"') {
      let j = i + 1;
      let text = '';
      while (j < line.length && line[j] !== '"') {
        if (line[j] === '\\' && j + 1 < line.length && '"\\$`'.includes(line[j + 1])) j++;
        text += line[j++];
      }
      word = (word ?? '') + text;
      i = j + 1;
    } else if (c === '\\') {
      word = (word ?? '') + (line[i + 1] ?? '');
      i += 2;
    } else if (/\s/.test(c)) {
      endWord();
      i++;
    } else if (c === '#' && word === undefined) {
      break;
    } else if (/^(&&|\|\||;|\|&?|&(?!>))/.test(rest)) {
      endCommand();
      i += /^(&&|\|\||\|&)/.test(rest) ? 2 : 1;
    } else if (c === '<' && /^<[^<>\s][^<>]*>/.test(rest)) {
      const m = /^<[^<>\s][^<>]*>/.exec(rest)!;
      word = (word ?? '') + m[0];
      i += m[0].length;
    } else if (c === '>' || c === '<' || rest.startsWith('&>')) {
      if (word !== undefined && /^\d+$/.test(word)) word = undefined; // `2>`: the descriptor goes too
      endWord();
      const m = /^(>>?|<<?<?|&>>?)(&\d+|&-)?/.exec(rest)!;
      if (!m[2]) skipNext = true; // `> file`: the next word is the target
      i += m[0].length;
    } else {
      word = (word ?? '') + c;
      i++;
    }
  }
  endCommand();
  return commands;
}

const ELLIPSIS = /^(…|\.\.\.)$/;

const LAUNCHER = /(^|\/)(bin\/autogan(\.js)?|dist\/cli\/main\.js)$/;

/**
 * What follows `autogan` in a simple command, or undefined when it runs something else. The CLI is
 * `autogan` at the start (after env assignments), or `npx autogan`, `node bin/autogan.js` or
 * `bin/autogan.js` anywhere, as inside `docker compose exec <service> node bin/autogan.js …`.
 */
export function autoganArgv(words: string[]): string[] | undefined {
  let w = [...words];
  if (w[0] === '$') w = w.slice(1); // a shell prompt
  if (w[0] === 'env') w = w.slice(1);
  while (w.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(w[0])) w = w.slice(1);
  let args: string[] | undefined = w[0] === 'autogan' ? w.slice(1) : undefined;
  for (let i = 0; !args && i < w.length; i++) {
    if (w[i] === 'npx') {
      let j = i + 1;
      while (j < w.length && w[j].startsWith('-')) j++; // npx's own flags
      if (w[j] === 'autogan') args = w.slice(j + 1);
    } else if (w[i] === 'node' && LAUNCHER.test(w[i + 1] ?? '')) args = w.slice(i + 2);
    else if (LAUNCHER.test(w[i]) && w[i - 1] !== 'node') args = w.slice(i + 1);
  }
  // A standalone "…" after an option is its elided value; anywhere else it stands for more options.
  return args?.filter((t, i, all) => !ELLIPSIS.test(t) || (i > 0 && /^--?[^=]+$/.test(all[i - 1])));
}

/** Every autogan command line in the fenced code blocks of a Markdown text. */
export function commandsIn(file: string, markdown: string): DocCommand[] {
  const out: DocCommand[] = [];
  for (const block of fencedLines(markdown))
    for (const l of joinContinuations(block))
      for (const words of shellCommands(l.text.replace(/^\s*\$\s+/, ''))) {
        const argv = autoganArgv(words);
        if (argv) out.push({ file, line: l.line, text: l.text.trim().replace(/\s+/g, ' '), argv });
      }
  return out;
}

class ReachedAction extends Error {
  constructor(readonly command: Command) {
    super('reached the action');
  }
}

/** The real program, made inert: no output, no exit, no value parsing, no action ever runs. */
function inertProgram(): Command {
  const program = buildProgram();
  const walk = (cmd: Command) => {
    cmd.exitOverride();
    cmd.configureOutput({ writeOut: () => {}, writeErr: () => {}, outputError: () => {} });
    // Documented values are often placeholders (<n>, …): their parsers are not what is checked here.
    for (const o of cmd.options) o.parseArg = undefined;
    for (const a of cmd.registeredArguments) a.parseArg = undefined;
    cmd.commands.forEach(walk);
  };
  walk(program);
  program.hook('preAction', (_self, actionCommand) => {
    throw new ReachedAction(actionCommand);
  });
  return program;
}

const pathOf = (cmd: Command): string => (cmd.parent ? `${pathOf(cmd.parent)} ${cmd.name()}` : cmd.name());

/** Why the CLI would refuse `autogan <argv>`, or undefined when it accepts it. Never runs an action. */
export function cliProblem(argv: string[]): string | undefined {
  const program = inertProgram();
  let reached: Command | undefined;
  const seen: Command[] = [];
  const track = (cmd: Command) => {
    cmd.hook('preSubcommand', (_self, sub) => void seen.push(sub));
    cmd.commands.forEach(track);
  };
  track(program);
  try {
    program.parse(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof ReachedAction) reached = err.command;
    else if (err instanceof CommanderError) {
      // Help asked for (`--help`, `autogan help <command>`) exits 0; help shown for want of a
      // subcommand exits 1.
      if (err.exitCode === 0) return undefined;
      if (err.code === 'commander.help') {
        const group = seen.at(-1) ?? program;
        return `\`${pathOf(group)}\` needs a subcommand: ${group.commands.map((c) => c.name()).join(', ')}`;
      }
      return err.message.replace(/^error: /, '').split('\n')[0];
    } else throw err;
  }
  return reached ? undefined : 'the CLI did not reach any command';
}

/** README.md and every Markdown file under docs/ that exists now. */
function documents(): string[] {
  const root = projectRoot();
  const files = [path.join(root, 'README.md')];
  const walk = (dir: string) => {
    if (!fs.existsSync(dir)) return;
    for (const e of fs
      .readdirSync(dir, { withFileTypes: true })
      .sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.md')) files.push(p);
    }
  };
  walk(path.join(root, 'docs'));
  return files;
}

function offenders(commands: DocCommand[]): string[] {
  return commands.flatMap((c) => {
    const problem = cliProblem(c.argv);
    return problem ? [`${c.file}:${c.line}: ${c.text}\n    → ${problem}`] : [];
  });
}

describe('command lines in README.md and docs/ are real autogan commands', () => {
  it('finds the commands the way a reader reads them (continuations, env, redirections, pipes)', () => {
    const md = [
      '# t', // 1
      '```bash', // 2
      'AUTOGAN_BACKEND=cpu npx autogan metrics is mnist \\', // 3
      '    --images 100 > is.json 2>&1 | tee log   # a comment --bogus', // 4
      'npx autogan schedule list; autogan frobnicate --x', // 5
      'temporal workflow list && npx autogan status <workflow id> --json', // 6
      '$ autogan metrics fid a.ckpt b.npz --network "fid-inception:m" …', // 7
      '```', // 8
      '`npx autogan inline --not-in-a-fence`', // 9
      '~~~', // 10
      'x=1 node bin/autogan.js plan p.yaml --json 2> err.txt < /dev/null', // 11
      'docker compose exec control-worker node bin/autogan.js status <id>', // 12
      'kubectl -n autogan create secret generic s --from-literal=K=<key>', // 13
      '~~~', // 14
    ].join('\n');
    assert.deepEqual(
      commandsIn('t.md', md).map((c) => [c.line, ...c.argv]),
      [
        [3, 'metrics', 'is', 'mnist', '--images', '100'],
        [5, 'schedule', 'list'],
        [5, 'frobnicate', '--x'],
        [6, 'status', '<workflow id>', '--json'],
        [7, 'metrics', 'fid', 'a.ckpt', 'b.npz', '--network', 'fid-inception:m'],
        [11, 'plan', 'p.yaml', '--json'],
        [12, 'status', '<id>'],
      ],
    );
  });

  it('the checker rejects what the CLI rejects (so this test can fail)', () => {
    const rejected: Array<[string[], RegExp]> = [
      [['frobnicate'], /unknown command 'frobnicate'/],
      [['run', 'p.yaml', '--frobnicate'], /unknown option '--frobnicate'/],
      [['schedule', 'create', 'x', '--pipeline', 'p.yaml', '--frobnicate', '1'], /unknown option/],
      [['schedule', 'frobnicate'], /unknown command 'frobnicate'/],
      [['validate'], /missing required argument 'file'/],
      [
        ['import', 'reference', 'a.pth', '--out', 'a.ckpt'],
        /required option '--arch <vector\|name>' not specified/,
      ],
      [['validate', 'a.yaml', 'b.yaml'], /too many arguments/],
      [['schedule'], /`autogan schedule` needs a subcommand: create, list, delete/],
    ];
    for (const [argv, why] of rejected) {
      const problem = cliProblem(argv);
      assert.ok(problem, `autogan ${argv.join(' ')} should be rejected`);
      assert.match(problem, why, `autogan ${argv.join(' ')}`);
    }
    const accepted = [
      ['run', 'p.yaml', '--embedded', '--port', '<n>', '--address', 'h:7233'],
      ['plan', 'p.yaml', '--no-check-files', '--json'],
      ['arch', 'describe', '1', '0', '1', '1', '--gf-dim=64'],
      ['metrics', 'fid', 'a', 'b', '--network', 'x', '--features-node', 'pool'],
      ['run', '--help'],
      ['help', 'run'],
    ];
    for (const argv of accepted)
      assert.equal(cliProblem(argv), undefined, `autogan ${argv.join(' ')} should be accepted`);
    assert.match(
      offenders(commandsIn('t.md', '```\nnpx autogan worker --kind gpu --frobnicate\n```\n')).join('\n'),
      /^t\.md:2: npx autogan worker --kind gpu --frobnicate\n {4}→ unknown option '--frobnicate'/,
    );
  });

  it('every autogan command line in README.md and docs/**/*.md is accepted by the CLI', () => {
    const root = projectRoot();
    const commands = documents().flatMap((f) =>
      commandsIn(path.relative(root, f), fs.readFileSync(f, 'utf8')),
    );
    // The README shows the two commands and a study; the reference pages (docs/cli.md,
    // docs/operations.md, …) hold the rest.
    assert.ok(
      commands.filter((c) => c.file === 'README.md').length >= 2 && commands.length >= 30,
      `found only ${commands.length} autogan command lines in README.md and docs/: is the extraction broken?`,
    );
    const bad = offenders(commands);
    assert.equal(
      bad.length,
      0,
      `${bad.length} of ${commands.length} documented command lines are not accepted by the CLI ` +
        `(fix the docs, or the CLI if the docs are right):\n${bad.join('\n')}`,
    );
  });
});
