// Dice similarity of two Bloom filters stored as BINARY, for Spark SQL: bloom_dice(a, b).
//
// Spark SQL has no bit-string type, so the linkage model's Dice levels cannot use
// DuckDB's `bit_count(a & b)` on BIT. This UDF computes the same value over the filters'
// bytes: 2 * popcount(a AND b) / (popcount(a) + popcount(b)) in double precision, NULL
// when either side is NULL, NaN for two empty filters (DuckDB's 0.0 / 0 is NaN too).
// Built by `make spark-udf` (javac + jar from Debian's openjdk-17-jdk-headless); the
// Python fallback in linkage/matching/spark_udf/__init__.py gives identical values.
package pahichan.linkage;

import java.nio.ByteBuffer;
import org.apache.spark.sql.api.java.UDF2;

public final class BloomDice implements UDF2<byte[], byte[], Double> {
    private static final long serialVersionUID = 1L;

    @Override
    public Double call(byte[] left, byte[] right) {
        if (left == null || right == null) {
            return null;
        }
        if (left.length != right.length) {
            // DuckDB refuses `&` on bit strings of different lengths; so does this.
            throw new IllegalArgumentException(
                "bloom_dice: filters of different lengths " + left.length + " and " + right.length);
        }
        ByteBuffer a = ByteBuffer.wrap(left);
        ByteBuffer b = ByteBuffer.wrap(right);
        long common = 0;
        long ones = 0;
        int i = 0;
        // Eight bytes at a time (a 1024-bit filter is 16 words), then any remaining bytes.
        for (; i + 8 <= left.length; i += 8) {
            long x = a.getLong(i);
            long y = b.getLong(i);
            common += Long.bitCount(x & y);
            ones += Long.bitCount(x) + Long.bitCount(y);
        }
        for (; i < left.length; i++) {
            int x = left[i] & 0xff;
            int y = right[i] & 0xff;
            common += Integer.bitCount(x & y);
            ones += Integer.bitCount(x) + Integer.bitCount(y);
        }
        return 2.0 * common / ones;
    }
}
