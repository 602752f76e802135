import * as pulumi from "@pulumi/pulumi";

/**
 * An input that holds credentials (a connection's private key or password, a root password),
 * marked secret so the state stores it encrypted among the inputs too, even when the program
 * passes a plain string. `additionalSecretOutputs` covers only the outputs.
 */
export function secretInput<T>(value: pulumi.Input<T>): pulumi.Output<pulumi.Unwrap<T>>;
export function secretInput<T>(value: pulumi.Input<T> | undefined): pulumi.Output<pulumi.Unwrap<T>> | undefined;
export function secretInput<T>(value: pulumi.Input<T> | undefined): pulumi.Output<pulumi.Unwrap<T>> | undefined {
  return value === undefined ? undefined : pulumi.secret(value);
}
