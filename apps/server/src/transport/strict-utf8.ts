import { configureTextEncoding, getTextEncoding } from '@bufbuild/protobuf/wire';

/**
 * Protobuf strings are UTF-8. By default protobuf-es decodes a binary string leniently, each
 * invalid byte becoming U+FFFD, so a client's malformed name or metadata would be stored as
 * something it never sent. The server reads them strictly instead: an invalid string fails the
 * message's decoding, which both transports answer INVALID_ARGUMENT (grpc-server.ts
 * decodeRequest; unreadable-requests.ts for the HTTP port). The setting is process-wide, as
 * protobuf-es keeps it: the server's own messages are always valid UTF-8.
 */
export function decodeProtobufStringsStrictly(): void {
  const lenient = getTextEncoding();
  const strict = new TextDecoder('utf-8', { fatal: true });
  configureTextEncoding({
    encodeUtf8: (text) => lenient.encodeUtf8(text),
    checkUtf8: (text) => lenient.checkUtf8(text),
    decodeUtf8: (bytes) => strict.decode(bytes),
  });
}
