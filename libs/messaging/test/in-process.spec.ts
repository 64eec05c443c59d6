import { InProcessBroker, type InProcessBus } from '../src';
import { eventBusContract } from './contract';

eventBusContract('in-process', async () => {
  const broker = new InProcessBroker();
  return {
    connect: async () => broker.connect(),
    kill: async (bus) => (bus as InProcessBus).kill(),
    injectRaw: async (command, data) => broker.injectCommand(command, data),
    cleanup: async () => undefined,
  };
});
