import { COMMAND_NAMES } from '@s2g/contracts';
import { describe, expect, it } from 'vitest';
import { commandsOf, parseServiceName, SERVICE_COMMANDS, SERVICE_NAMES } from './services';

describe('services', () => {
  it('give every command exactly one service', () => {
    const all = SERVICE_NAMES.flatMap((s) => SERVICE_COMMANDS[s]);
    expect([...all].sort()).toEqual([...COMMAND_NAMES].sort());
    expect(new Set(all).size).toBe(all.length);
    expect(commandsOf(SERVICE_NAMES).sort()).toEqual([...COMMAND_NAMES].sort());
  });

  it('parse a service name, naming the known ones when it is wrong', () => {
    expect(parseServiceName('trainer')).toBe('trainer');
    expect(() => parseServiceName('gateway')).toThrow(/unknown service 'gateway': one of ingest, trainer, inference, renderer/);
  });
});
