using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
static unsafe class Kern {
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void K8x32(int kc, float* a, float* b, float* c, int ldc) {
        Vector512<float> c0_0 = default, c0_1 = default, c1_0 = default, c1_1 = default, c2_0 = default, c2_1 = default, c3_0 = default, c3_1 = default, c4_0 = default, c4_1 = default, c5_0 = default, c5_1 = default, c6_0 = default, c6_1 = default, c7_0 = default, c7_1 = default;
        for (int p = 0; p < kc; p++) {
            var b0 = Vector512.Load(b + 0);
            var b1 = Vector512.Load(b + 16);
            { var x = Vector512.Create(a[0]);
              c0_0 = Vector512.FusedMultiplyAdd(x, b0, c0_0);
              c0_1 = Vector512.FusedMultiplyAdd(x, b1, c0_1);
            }
            { var x = Vector512.Create(a[1]);
              c1_0 = Vector512.FusedMultiplyAdd(x, b0, c1_0);
              c1_1 = Vector512.FusedMultiplyAdd(x, b1, c1_1);
            }
            { var x = Vector512.Create(a[2]);
              c2_0 = Vector512.FusedMultiplyAdd(x, b0, c2_0);
              c2_1 = Vector512.FusedMultiplyAdd(x, b1, c2_1);
            }
            { var x = Vector512.Create(a[3]);
              c3_0 = Vector512.FusedMultiplyAdd(x, b0, c3_0);
              c3_1 = Vector512.FusedMultiplyAdd(x, b1, c3_1);
            }
            { var x = Vector512.Create(a[4]);
              c4_0 = Vector512.FusedMultiplyAdd(x, b0, c4_0);
              c4_1 = Vector512.FusedMultiplyAdd(x, b1, c4_1);
            }
            { var x = Vector512.Create(a[5]);
              c5_0 = Vector512.FusedMultiplyAdd(x, b0, c5_0);
              c5_1 = Vector512.FusedMultiplyAdd(x, b1, c5_1);
            }
            { var x = Vector512.Create(a[6]);
              c6_0 = Vector512.FusedMultiplyAdd(x, b0, c6_0);
              c6_1 = Vector512.FusedMultiplyAdd(x, b1, c6_1);
            }
            { var x = Vector512.Create(a[7]);
              c7_0 = Vector512.FusedMultiplyAdd(x, b0, c7_0);
              c7_1 = Vector512.FusedMultiplyAdd(x, b1, c7_1);
            }
            a += 8; b += 32;
        }
        (Vector512.Load(c + 0*ldc + 0) + c0_0).Store(c + 0*ldc + 0);
        (Vector512.Load(c + 0*ldc + 16) + c0_1).Store(c + 0*ldc + 16);
        (Vector512.Load(c + 1*ldc + 0) + c1_0).Store(c + 1*ldc + 0);
        (Vector512.Load(c + 1*ldc + 16) + c1_1).Store(c + 1*ldc + 16);
        (Vector512.Load(c + 2*ldc + 0) + c2_0).Store(c + 2*ldc + 0);
        (Vector512.Load(c + 2*ldc + 16) + c2_1).Store(c + 2*ldc + 16);
        (Vector512.Load(c + 3*ldc + 0) + c3_0).Store(c + 3*ldc + 0);
        (Vector512.Load(c + 3*ldc + 16) + c3_1).Store(c + 3*ldc + 16);
        (Vector512.Load(c + 4*ldc + 0) + c4_0).Store(c + 4*ldc + 0);
        (Vector512.Load(c + 4*ldc + 16) + c4_1).Store(c + 4*ldc + 16);
        (Vector512.Load(c + 5*ldc + 0) + c5_0).Store(c + 5*ldc + 0);
        (Vector512.Load(c + 5*ldc + 16) + c5_1).Store(c + 5*ldc + 16);
        (Vector512.Load(c + 6*ldc + 0) + c6_0).Store(c + 6*ldc + 0);
        (Vector512.Load(c + 6*ldc + 16) + c6_1).Store(c + 6*ldc + 16);
        (Vector512.Load(c + 7*ldc + 0) + c7_0).Store(c + 7*ldc + 0);
        (Vector512.Load(c + 7*ldc + 16) + c7_1).Store(c + 7*ldc + 16);
    }
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void K12x32(int kc, float* a, float* b, float* c, int ldc) {
        Vector512<float> c0_0 = default, c0_1 = default, c1_0 = default, c1_1 = default, c2_0 = default, c2_1 = default, c3_0 = default, c3_1 = default, c4_0 = default, c4_1 = default, c5_0 = default, c5_1 = default, c6_0 = default, c6_1 = default, c7_0 = default, c7_1 = default, c8_0 = default, c8_1 = default, c9_0 = default, c9_1 = default, c10_0 = default, c10_1 = default, c11_0 = default, c11_1 = default;
        for (int p = 0; p < kc; p++) {
            var b0 = Vector512.Load(b + 0);
            var b1 = Vector512.Load(b + 16);
            { var x = Vector512.Create(a[0]);
              c0_0 = Vector512.FusedMultiplyAdd(x, b0, c0_0);
              c0_1 = Vector512.FusedMultiplyAdd(x, b1, c0_1);
            }
            { var x = Vector512.Create(a[1]);
              c1_0 = Vector512.FusedMultiplyAdd(x, b0, c1_0);
              c1_1 = Vector512.FusedMultiplyAdd(x, b1, c1_1);
            }
            { var x = Vector512.Create(a[2]);
              c2_0 = Vector512.FusedMultiplyAdd(x, b0, c2_0);
              c2_1 = Vector512.FusedMultiplyAdd(x, b1, c2_1);
            }
            { var x = Vector512.Create(a[3]);
              c3_0 = Vector512.FusedMultiplyAdd(x, b0, c3_0);
              c3_1 = Vector512.FusedMultiplyAdd(x, b1, c3_1);
            }
            { var x = Vector512.Create(a[4]);
              c4_0 = Vector512.FusedMultiplyAdd(x, b0, c4_0);
              c4_1 = Vector512.FusedMultiplyAdd(x, b1, c4_1);
            }
            { var x = Vector512.Create(a[5]);
              c5_0 = Vector512.FusedMultiplyAdd(x, b0, c5_0);
              c5_1 = Vector512.FusedMultiplyAdd(x, b1, c5_1);
            }
            { var x = Vector512.Create(a[6]);
              c6_0 = Vector512.FusedMultiplyAdd(x, b0, c6_0);
              c6_1 = Vector512.FusedMultiplyAdd(x, b1, c6_1);
            }
            { var x = Vector512.Create(a[7]);
              c7_0 = Vector512.FusedMultiplyAdd(x, b0, c7_0);
              c7_1 = Vector512.FusedMultiplyAdd(x, b1, c7_1);
            }
            { var x = Vector512.Create(a[8]);
              c8_0 = Vector512.FusedMultiplyAdd(x, b0, c8_0);
              c8_1 = Vector512.FusedMultiplyAdd(x, b1, c8_1);
            }
            { var x = Vector512.Create(a[9]);
              c9_0 = Vector512.FusedMultiplyAdd(x, b0, c9_0);
              c9_1 = Vector512.FusedMultiplyAdd(x, b1, c9_1);
            }
            { var x = Vector512.Create(a[10]);
              c10_0 = Vector512.FusedMultiplyAdd(x, b0, c10_0);
              c10_1 = Vector512.FusedMultiplyAdd(x, b1, c10_1);
            }
            { var x = Vector512.Create(a[11]);
              c11_0 = Vector512.FusedMultiplyAdd(x, b0, c11_0);
              c11_1 = Vector512.FusedMultiplyAdd(x, b1, c11_1);
            }
            a += 12; b += 32;
        }
        (Vector512.Load(c + 0*ldc + 0) + c0_0).Store(c + 0*ldc + 0);
        (Vector512.Load(c + 0*ldc + 16) + c0_1).Store(c + 0*ldc + 16);
        (Vector512.Load(c + 1*ldc + 0) + c1_0).Store(c + 1*ldc + 0);
        (Vector512.Load(c + 1*ldc + 16) + c1_1).Store(c + 1*ldc + 16);
        (Vector512.Load(c + 2*ldc + 0) + c2_0).Store(c + 2*ldc + 0);
        (Vector512.Load(c + 2*ldc + 16) + c2_1).Store(c + 2*ldc + 16);
        (Vector512.Load(c + 3*ldc + 0) + c3_0).Store(c + 3*ldc + 0);
        (Vector512.Load(c + 3*ldc + 16) + c3_1).Store(c + 3*ldc + 16);
        (Vector512.Load(c + 4*ldc + 0) + c4_0).Store(c + 4*ldc + 0);
        (Vector512.Load(c + 4*ldc + 16) + c4_1).Store(c + 4*ldc + 16);
        (Vector512.Load(c + 5*ldc + 0) + c5_0).Store(c + 5*ldc + 0);
        (Vector512.Load(c + 5*ldc + 16) + c5_1).Store(c + 5*ldc + 16);
        (Vector512.Load(c + 6*ldc + 0) + c6_0).Store(c + 6*ldc + 0);
        (Vector512.Load(c + 6*ldc + 16) + c6_1).Store(c + 6*ldc + 16);
        (Vector512.Load(c + 7*ldc + 0) + c7_0).Store(c + 7*ldc + 0);
        (Vector512.Load(c + 7*ldc + 16) + c7_1).Store(c + 7*ldc + 16);
        (Vector512.Load(c + 8*ldc + 0) + c8_0).Store(c + 8*ldc + 0);
        (Vector512.Load(c + 8*ldc + 16) + c8_1).Store(c + 8*ldc + 16);
        (Vector512.Load(c + 9*ldc + 0) + c9_0).Store(c + 9*ldc + 0);
        (Vector512.Load(c + 9*ldc + 16) + c9_1).Store(c + 9*ldc + 16);
        (Vector512.Load(c + 10*ldc + 0) + c10_0).Store(c + 10*ldc + 0);
        (Vector512.Load(c + 10*ldc + 16) + c10_1).Store(c + 10*ldc + 16);
        (Vector512.Load(c + 11*ldc + 0) + c11_0).Store(c + 11*ldc + 0);
        (Vector512.Load(c + 11*ldc + 16) + c11_1).Store(c + 11*ldc + 16);
    }
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void K6x64(int kc, float* a, float* b, float* c, int ldc) {
        Vector512<float> c0_0 = default, c0_1 = default, c0_2 = default, c0_3 = default, c1_0 = default, c1_1 = default, c1_2 = default, c1_3 = default, c2_0 = default, c2_1 = default, c2_2 = default, c2_3 = default, c3_0 = default, c3_1 = default, c3_2 = default, c3_3 = default, c4_0 = default, c4_1 = default, c4_2 = default, c4_3 = default, c5_0 = default, c5_1 = default, c5_2 = default, c5_3 = default;
        for (int p = 0; p < kc; p++) {
            var b0 = Vector512.Load(b + 0);
            var b1 = Vector512.Load(b + 16);
            var b2 = Vector512.Load(b + 32);
            var b3 = Vector512.Load(b + 48);
            { var x = Vector512.Create(a[0]);
              c0_0 = Vector512.FusedMultiplyAdd(x, b0, c0_0);
              c0_1 = Vector512.FusedMultiplyAdd(x, b1, c0_1);
              c0_2 = Vector512.FusedMultiplyAdd(x, b2, c0_2);
              c0_3 = Vector512.FusedMultiplyAdd(x, b3, c0_3);
            }
            { var x = Vector512.Create(a[1]);
              c1_0 = Vector512.FusedMultiplyAdd(x, b0, c1_0);
              c1_1 = Vector512.FusedMultiplyAdd(x, b1, c1_1);
              c1_2 = Vector512.FusedMultiplyAdd(x, b2, c1_2);
              c1_3 = Vector512.FusedMultiplyAdd(x, b3, c1_3);
            }
            { var x = Vector512.Create(a[2]);
              c2_0 = Vector512.FusedMultiplyAdd(x, b0, c2_0);
              c2_1 = Vector512.FusedMultiplyAdd(x, b1, c2_1);
              c2_2 = Vector512.FusedMultiplyAdd(x, b2, c2_2);
              c2_3 = Vector512.FusedMultiplyAdd(x, b3, c2_3);
            }
            { var x = Vector512.Create(a[3]);
              c3_0 = Vector512.FusedMultiplyAdd(x, b0, c3_0);
              c3_1 = Vector512.FusedMultiplyAdd(x, b1, c3_1);
              c3_2 = Vector512.FusedMultiplyAdd(x, b2, c3_2);
              c3_3 = Vector512.FusedMultiplyAdd(x, b3, c3_3);
            }
            { var x = Vector512.Create(a[4]);
              c4_0 = Vector512.FusedMultiplyAdd(x, b0, c4_0);
              c4_1 = Vector512.FusedMultiplyAdd(x, b1, c4_1);
              c4_2 = Vector512.FusedMultiplyAdd(x, b2, c4_2);
              c4_3 = Vector512.FusedMultiplyAdd(x, b3, c4_3);
            }
            { var x = Vector512.Create(a[5]);
              c5_0 = Vector512.FusedMultiplyAdd(x, b0, c5_0);
              c5_1 = Vector512.FusedMultiplyAdd(x, b1, c5_1);
              c5_2 = Vector512.FusedMultiplyAdd(x, b2, c5_2);
              c5_3 = Vector512.FusedMultiplyAdd(x, b3, c5_3);
            }
            a += 6; b += 64;
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
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void K8x48(int kc, float* a, float* b, float* c, int ldc) {
        Vector512<float> c0_0 = default, c0_1 = default, c0_2 = default, c1_0 = default, c1_1 = default, c1_2 = default, c2_0 = default, c2_1 = default, c2_2 = default, c3_0 = default, c3_1 = default, c3_2 = default, c4_0 = default, c4_1 = default, c4_2 = default, c5_0 = default, c5_1 = default, c5_2 = default, c6_0 = default, c6_1 = default, c6_2 = default, c7_0 = default, c7_1 = default, c7_2 = default;
        for (int p = 0; p < kc; p++) {
            var b0 = Vector512.Load(b + 0);
            var b1 = Vector512.Load(b + 16);
            var b2 = Vector512.Load(b + 32);
            { var x = Vector512.Create(a[0]);
              c0_0 = Vector512.FusedMultiplyAdd(x, b0, c0_0);
              c0_1 = Vector512.FusedMultiplyAdd(x, b1, c0_1);
              c0_2 = Vector512.FusedMultiplyAdd(x, b2, c0_2);
            }
            { var x = Vector512.Create(a[1]);
              c1_0 = Vector512.FusedMultiplyAdd(x, b0, c1_0);
              c1_1 = Vector512.FusedMultiplyAdd(x, b1, c1_1);
              c1_2 = Vector512.FusedMultiplyAdd(x, b2, c1_2);
            }
            { var x = Vector512.Create(a[2]);
              c2_0 = Vector512.FusedMultiplyAdd(x, b0, c2_0);
              c2_1 = Vector512.FusedMultiplyAdd(x, b1, c2_1);
              c2_2 = Vector512.FusedMultiplyAdd(x, b2, c2_2);
            }
            { var x = Vector512.Create(a[3]);
              c3_0 = Vector512.FusedMultiplyAdd(x, b0, c3_0);
              c3_1 = Vector512.FusedMultiplyAdd(x, b1, c3_1);
              c3_2 = Vector512.FusedMultiplyAdd(x, b2, c3_2);
            }
            { var x = Vector512.Create(a[4]);
              c4_0 = Vector512.FusedMultiplyAdd(x, b0, c4_0);
              c4_1 = Vector512.FusedMultiplyAdd(x, b1, c4_1);
              c4_2 = Vector512.FusedMultiplyAdd(x, b2, c4_2);
            }
            { var x = Vector512.Create(a[5]);
              c5_0 = Vector512.FusedMultiplyAdd(x, b0, c5_0);
              c5_1 = Vector512.FusedMultiplyAdd(x, b1, c5_1);
              c5_2 = Vector512.FusedMultiplyAdd(x, b2, c5_2);
            }
            { var x = Vector512.Create(a[6]);
              c6_0 = Vector512.FusedMultiplyAdd(x, b0, c6_0);
              c6_1 = Vector512.FusedMultiplyAdd(x, b1, c6_1);
              c6_2 = Vector512.FusedMultiplyAdd(x, b2, c6_2);
            }
            { var x = Vector512.Create(a[7]);
              c7_0 = Vector512.FusedMultiplyAdd(x, b0, c7_0);
              c7_1 = Vector512.FusedMultiplyAdd(x, b1, c7_1);
              c7_2 = Vector512.FusedMultiplyAdd(x, b2, c7_2);
            }
            a += 8; b += 48;
        }
        (Vector512.Load(c + 0*ldc + 0) + c0_0).Store(c + 0*ldc + 0);
        (Vector512.Load(c + 0*ldc + 16) + c0_1).Store(c + 0*ldc + 16);
        (Vector512.Load(c + 0*ldc + 32) + c0_2).Store(c + 0*ldc + 32);
        (Vector512.Load(c + 1*ldc + 0) + c1_0).Store(c + 1*ldc + 0);
        (Vector512.Load(c + 1*ldc + 16) + c1_1).Store(c + 1*ldc + 16);
        (Vector512.Load(c + 1*ldc + 32) + c1_2).Store(c + 1*ldc + 32);
        (Vector512.Load(c + 2*ldc + 0) + c2_0).Store(c + 2*ldc + 0);
        (Vector512.Load(c + 2*ldc + 16) + c2_1).Store(c + 2*ldc + 16);
        (Vector512.Load(c + 2*ldc + 32) + c2_2).Store(c + 2*ldc + 32);
        (Vector512.Load(c + 3*ldc + 0) + c3_0).Store(c + 3*ldc + 0);
        (Vector512.Load(c + 3*ldc + 16) + c3_1).Store(c + 3*ldc + 16);
        (Vector512.Load(c + 3*ldc + 32) + c3_2).Store(c + 3*ldc + 32);
        (Vector512.Load(c + 4*ldc + 0) + c4_0).Store(c + 4*ldc + 0);
        (Vector512.Load(c + 4*ldc + 16) + c4_1).Store(c + 4*ldc + 16);
        (Vector512.Load(c + 4*ldc + 32) + c4_2).Store(c + 4*ldc + 32);
        (Vector512.Load(c + 5*ldc + 0) + c5_0).Store(c + 5*ldc + 0);
        (Vector512.Load(c + 5*ldc + 16) + c5_1).Store(c + 5*ldc + 16);
        (Vector512.Load(c + 5*ldc + 32) + c5_2).Store(c + 5*ldc + 32);
        (Vector512.Load(c + 6*ldc + 0) + c6_0).Store(c + 6*ldc + 0);
        (Vector512.Load(c + 6*ldc + 16) + c6_1).Store(c + 6*ldc + 16);
        (Vector512.Load(c + 6*ldc + 32) + c6_2).Store(c + 6*ldc + 32);
        (Vector512.Load(c + 7*ldc + 0) + c7_0).Store(c + 7*ldc + 0);
        (Vector512.Load(c + 7*ldc + 16) + c7_1).Store(c + 7*ldc + 16);
        (Vector512.Load(c + 7*ldc + 32) + c7_2).Store(c + 7*ldc + 32);
    }
    public delegate void KernelFn(int kc, float* a, float* b, float* c, int ldc);
    public static (int, int, KernelFn)[] All = [(8, 32, K8x32), (12, 32, K12x32), (6, 64, K6x64), (8, 48, K8x48)];
}
