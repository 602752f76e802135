/** A line for the person running `pulumi up`: the engine shows a provider's stderr as it comes. */
export function progress(message: string): void {
  process.stderr.write(`pulumi-xen-ha: ${message}\n`);
}
