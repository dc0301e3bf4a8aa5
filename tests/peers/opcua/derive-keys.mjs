// Independent reference for the gateway's key derivation tests: node-opcua-crypto's P_SHA256 and
// computeDerivedKeys for fixed nonces. usage: node derive-keys.mjs CLIENT_NONCE_HEX SERVER_NONCE_HEX ENCRYPTION_KEY_LENGTH
// prints JSON {pSha256, client: {signingKey, encryptingKey, initializationVector}, server: {...}} in hex.
import { makePseudoRandomBuffer, computeDerivedKeys } from "node-opcua-crypto";

const [clientHex, serverHex, encLength] = process.argv.slice(2);
const clientNonce = Buffer.from(clientHex, "hex");
const serverNonce = Buffer.from(serverHex, "hex");
const options = { signatureLength: 32, signingKeyLength: 32, encryptingKeyLength: Number(encLength), encryptingBlockSize: 16, algorithm: "aes-" + Number(encLength) * 8 + "-cbc", sha1or256: "SHA256" };
const hex = (k) => ({ signingKey: k.signingKey.toString("hex"), encryptingKey: k.encryptingKey.toString("hex"), initializationVector: k.initializationVector.toString("hex") });
console.log(JSON.stringify({
  pSha256: makePseudoRandomBuffer(serverNonce, clientNonce, 100, "SHA256").toString("hex"),
  client: hex(computeDerivedKeys(serverNonce, clientNonce, options)),
  server: hex(computeDerivedKeys(clientNonce, serverNonce, options)),
}));
