using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
static unsafe class Kern3 {
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void K6x64Rows(int kc, float* a, long lda, float* b, float* c, int ldc) {
        float* r0 = a, r1 = a + lda, r2 = a + 2 * lda, r3 = a + 3 * lda, r4 = a + 4 * lda, r5 = a + 5 * lda;
        Vector512<float> c0_0 = default, c0_1 = default, c0_2 = default, c0_3 = default;
        Vector512<float> c1_0 = default, c1_1 = default, c1_2 = default, c1_3 = default;
        Vector512<float> c2_0 = default, c2_1 = default, c2_2 = default, c2_3 = default;
        Vector512<float> c3_0 = default, c3_1 = default, c3_2 = default, c3_3 = default;
        Vector512<float> c4_0 = default, c4_1 = default, c4_2 = default, c4_3 = default;
        Vector512<float> c5_0 = default, c5_1 = default, c5_2 = default, c5_3 = default;
        for (int p = 0; p < kc; p++) {
            var b0 = Vector512.Load(b + 0);
            var b1 = Vector512.Load(b + 16);
            var b2 = Vector512.Load(b + 32);
            var b3 = Vector512.Load(b + 48);
            { var x = Vector512.Create(r0[p]);
              c0_0 = Vector512.FusedMultiplyAdd(x, b0, c0_0);
              c0_1 = Vector512.FusedMultiplyAdd(x, b1, c0_1);
              c0_2 = Vector512.FusedMultiplyAdd(x, b2, c0_2);
              c0_3 = Vector512.FusedMultiplyAdd(x, b3, c0_3);
            }
            { var x = Vector512.Create(r1[p]);
              c1_0 = Vector512.FusedMultiplyAdd(x, b0, c1_0);
              c1_1 = Vector512.FusedMultiplyAdd(x, b1, c1_1);
              c1_2 = Vector512.FusedMultiplyAdd(x, b2, c1_2);
              c1_3 = Vector512.FusedMultiplyAdd(x, b3, c1_3);
            }
            { var x = Vector512.Create(r2[p]);
              c2_0 = Vector512.FusedMultiplyAdd(x, b0, c2_0);
              c2_1 = Vector512.FusedMultiplyAdd(x, b1, c2_1);
              c2_2 = Vector512.FusedMultiplyAdd(x, b2, c2_2);
              c2_3 = Vector512.FusedMultiplyAdd(x, b3, c2_3);
            }
            { var x = Vector512.Create(r3[p]);
              c3_0 = Vector512.FusedMultiplyAdd(x, b0, c3_0);
              c3_1 = Vector512.FusedMultiplyAdd(x, b1, c3_1);
              c3_2 = Vector512.FusedMultiplyAdd(x, b2, c3_2);
              c3_3 = Vector512.FusedMultiplyAdd(x, b3, c3_3);
            }
            { var x = Vector512.Create(r4[p]);
              c4_0 = Vector512.FusedMultiplyAdd(x, b0, c4_0);
              c4_1 = Vector512.FusedMultiplyAdd(x, b1, c4_1);
              c4_2 = Vector512.FusedMultiplyAdd(x, b2, c4_2);
              c4_3 = Vector512.FusedMultiplyAdd(x, b3, c4_3);
            }
            { var x = Vector512.Create(r5[p]);
              c5_0 = Vector512.FusedMultiplyAdd(x, b0, c5_0);
              c5_1 = Vector512.FusedMultiplyAdd(x, b1, c5_1);
              c5_2 = Vector512.FusedMultiplyAdd(x, b2, c5_2);
              c5_3 = Vector512.FusedMultiplyAdd(x, b3, c5_3);
            }
            b += 64;
        }
        (Vector512.Load(c + 0*ldc + 0) + c0_0).Store(c + 0*ldc + 0);
        (Vector512.Load(c + 0*ldc + 16) + c0_1).Store(c + 0*ldc + 16);
        (Vector512.Load(c + 0*ldc + 32) + c0_2).Store(c + 0*ldc + 32);
        (Vector512.Load(c + 0*ldc + 48) + c0_3).Store(c + 0*ldc + 48);
        (Vector512.Load(c + 1*ldc + 0) + c1_0).Store(c + 1*ldc + 0);
        (Vector512.Load(c + 1*ldc + 16) + c1_1).Store(c + 1*ldc + 16);
        (Vector512.Load(c + 1*ldc + 32) + c1_2).Store(c + 1*ldc + 32);
        (Vector512.Load(c + 1*ldc + 48) + c1_3).Store(c + 1*ldc + 48);
        (Vector512.Load(c + 2*ldc + 0) + c2_0).Store(c + 2*ldc + 0);
        (Vector512.Load(c + 2*ldc + 16) + c2_1).Store(c + 2*ldc + 16);
        (Vector512.Load(c + 2*ldc + 32) + c2_2).Store(c + 2*ldc + 32);
        (Vector512.Load(c + 2*ldc + 48) + c2_3).Store(c + 2*ldc + 48);
        (Vector512.Load(c + 3*ldc + 0) + c3_0).Store(c + 3*ldc + 0);
        (Vector512.Load(c + 3*ldc + 16) + c3_1).Store(c + 3*ldc + 16);
        (Vector512.Load(c + 3*ldc + 32) + c3_2).Store(c + 3*ldc + 32);
        (Vector512.Load(c + 3*ldc + 48) + c3_3).Store(c + 3*ldc + 48);
        (Vector512.Load(c + 4*ldc + 0) + c4_0).Store(c + 4*ldc + 0);
        (Vector512.Load(c + 4*ldc + 16) + c4_1).Store(c + 4*ldc + 16);
        (Vector512.Load(c + 4*ldc + 32) + c4_2).Store(c + 4*ldc + 32);
        (Vector512.Load(c + 4*ldc + 48) + c4_3).Store(c + 4*ldc + 48);
        (Vector512.Load(c + 5*ldc + 0) + c5_0).Store(c + 5*ldc + 0);
        (Vector512.Load(c + 5*ldc + 16) + c5_1).Store(c + 5*ldc + 16);
        (Vector512.Load(c + 5*ldc + 32) + c5_2).Store(c + 5*ldc + 32);
        (Vector512.Load(c + 5*ldc + 48) + c5_3).Store(c + 5*ldc + 48);
    }
}