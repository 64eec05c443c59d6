/**
 * Subject and stream naming of one bus namespace. A namespace prefixes every subject and stream, so
 * several deployments (or test runs) can share one NATS server without seeing each other's messages.
 */
import { type CommandName, DEAD_LETTER_PREFIX, deadLetterSubject, ErrorCode, S2gError } from '@s2g/contracts';

const TOKEN = /^[A-Za-z0-9_-]+$/;

export function assertToken(kind: string, value: string): void {
  if (!TOKEN.test(value)) throw new S2gError(ErrorCode.BAD_USER_INPUT, `${kind} must match ${TOKEN} (got ${JSON.stringify(value)})`);
}

export class BusNames {
  readonly prefix: string;

  constructor(readonly namespace = '') {
    if (namespace) assertToken('Bus namespace', namespace);
    this.prefix = namespace ? `${namespace}.` : '';
  }

  subject(name: string): string {
    return this.prefix + name;
  }

  /** The contract name of a subject of this namespace, or null for foreign subjects. */
  name(subject: string): string | null {
    return subject.startsWith(this.prefix) ? subject.slice(this.prefix.length) : null;
  }

  deadLetterSubject(command?: CommandName): string {
    return this.subject(command ? deadLetterSubject(command) : `${DEAD_LETTER_PREFIX}>`);
  }

  stream(kind: 'COMMANDS' | 'EVENTS' | 'DLQ'): string {
    return `${this.namespace ? `${this.namespace}_` : ''}S2G_${kind}`;
  }

  /** Durable consumer of one group for one command, e.g. `trainer-training-requested`. */
  consumer(group: string, command: CommandName): string {
    assertToken('Consumer group', group);
    return `${group}-${command.replace(/^s2g\./, '').replace(/\./g, '-')}`;
  }
}

/** NATS subject matching: `*` is one token, a final `>` is one or more tokens. */
export function subjectMatches(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return i === p.length - 1 && s.length > i;
    if (i >= s.length || (p[i] !== '*' && p[i] !== s[i])) return false;
  }
  return p.length === s.length;
}
