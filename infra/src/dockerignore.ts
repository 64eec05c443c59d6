/**
 * .dockerignore matching as BuildKit does it (moby/patternmatcher): patterns in order, the last
 * one that matches a path or any of its parent directories decides; `!` re-includes; `**` spans
 * directories, `*` and `?` stay within one path segment.
 */
import path from 'node:path';

interface Pattern {
  exclude: boolean;
  regex: RegExp;
}

function segmentRegex(segment: string): string {
  let out = '';
  for (const c of segment) {
    if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return out;
}

function compile(pattern: string): RegExp {
  const segments = pattern.split('/');
  let source = '';
  segments.forEach((segment, i) => {
    const last = i === segments.length - 1;
    if (segment === '**') source += last ? '.*' : '(?:[^/]+/)*';
    else source += segmentRegex(segment) + (last ? '' : '/');
  });
  return new RegExp(`^${source}$`);
}

function clean(p: string): string {
  const normalized = path.posix.normalize(p.replace(/\\/g, '/')).replace(/^(\.\/)+/, '').replace(/^\/+/, '');
  return normalized === '.' ? '' : normalized.replace(/\/+$/, '');
}

export class DockerIgnore {
  private readonly patterns: Pattern[];

  constructor(text: string) {
    this.patterns = text
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'))
      .map((line) => {
        const exclude = !line.startsWith('!');
        return { exclude, regex: compile(clean(exclude ? line : line.slice(1).trim())) };
      });
  }

  /** Whether `file` (relative to the build context) is left out of the context. */
  excludes(file: string): boolean {
    const target = clean(file);
    const parts = target.split('/');
    const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let excluded = false;
    for (const pattern of this.patterns) {
      if (candidates.some((c) => pattern.regex.test(c))) excluded = pattern.exclude;
    }
    return excluded;
  }
}
