import { createContext, useContext } from 'react';
import type { Device } from './devices';

/** Every device of this page, so a view can name the device behind a client id. */
export const DevicesContext = createContext<readonly Device[]>([]);

export function useDevices(): readonly Device[] {
  return useContext(DevicesContext);
}

/** "Device B" for a client id of this page, else a short form of the id. */
export function useDeviceName(): (clientId: string | null, self: string) => string {
  const devices = useDevices();
  return (clientId, self) => {
    if (clientId === null) return 'the server';
    if (clientId === self) return 'this device';
    const known = devices.find((d) => safeClientId(d) === clientId);
    return known ? known.name : `device ${clientId.slice(0, 6)}`;
  };
}

function safeClientId(d: Device): string | undefined {
  try {
    return d.sync.clientId;
  } catch {
    return undefined;
  }
}
