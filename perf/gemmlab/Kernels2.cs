using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
static unsafe class Kern2 {
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void K4x96(int kc, float* a, float* b, float* c, int ldc) {
        Vector512<float> c0_0 = default, c0_1 = default, c0_2 = default, c0_3 = default, c0_4 = default, c0_5 = default, c1_0 = default, c1_1 = default, c1_2 = default, c1_3 = default, c1_4 = default, c1_5 = default, c2_0 = default, c2_1 = default, c2_2 = default, c2_3 = default, c2_4 = default, c2_5 = default, c3_0 = default, c3_1 = default, c3_2 = default, c3_3 = default, c3_4 = default, c3_5 = default;
        int p = 0;
        for (; p < kc; p++) {
            var b0 = Vector512.Load(b + 0);
            var b1 = Vector512.Load(b + 16);
            var b2 = Vector512.Load(b + 32);
            var b3 = Vector512.Load(b + 48);
            var b4 = Vector512.Load(b + 64);
            var b5 = Vector512.Load(b + 80);
            { var x = Vector512.Create(a[0]);
              c0_0 = Vector512.FusedMultiplyAdd(x, b0, c0_0);
              c0_1 = Vector512.FusedMultiplyAdd(x, b1, c0_1);
              c0_2 = Vector512.FusedMultiplyAdd(x, b2, c0_2);
              c0_3 = Vector512.FusedMultiplyAdd(x, b3, c0_3);
              c0_4 = Vector512.FusedMultiplyAdd(x, b4, c0_4);
              c0_5 = Vector512.FusedMultiplyAdd(x, b5, c0_5);
            }
            { var x = Vector512.Create(a[1]);
              c1_0 = Vector512.FusedMultiplyAdd(x, b0, c1_0);
              c1_1 = Vector512.FusedMultiplyAdd(x, b1, c1_1);
              c1_2 = Vector512.FusedMultiplyAdd(x, b2, c1_2);
              c1_3 = Vector512.FusedMultiplyAdd(x, b3, c1_3);
              c1_4 = Vector512.FusedMultiplyAdd(x, b4, c1_4);
              c1_5 = Vector512.FusedMultiplyAdd(x, b5, c1_5);
            }
            { var x = Vector512.Create(a[2]);
              c2_0 = Vector512.FusedMultiplyAdd(x, b0, c2_0);
              c2_1 = Vector512.FusedMultiplyAdd(x, b1, c2_1);
              c2_2 = Vector512.FusedMultiplyAdd(x, b2, c2_2);
              c2_3 = Vector512.FusedMultiplyAdd(x, b3, c2_3);
              c2_4 = Vector512.FusedMultiplyAdd(x, b4, c2_4);
              c2_5 = Vector512.FusedMultiplyAdd(x, b5, c2_5);
            }
            { var x = Vector512.Create(a[3]);
              c3_0 = Vector512.FusedMultiplyAdd(x, b0, c3_0);
              c3_1 = Vector512.FusedMultiplyAdd(x, b1, c3_1);
              c3_2 = Vector512.FusedMultiplyAdd(x, b2, c3_2);
              c3_3 = Vector512.FusedMultiplyAdd(x, b3, c3_3);
              c3_4 = Vector512.FusedMultiplyAdd(x, b4, c3_4);
              c3_5 = Vector512.FusedMultiplyAdd(x, b5, c3_5);
            }
            a += 4; b += 96;
        }
        (Vector512.Load(c + 0*ldc + 0) + c0_0).Store(c + 0*ldc + 0);
        (Vector512.Load(c + 0*ldc + 16) + c0_1).Store(c + 0*ldc + 16);
        (Vector512.Load(c + 0*ldc + 32) + c0_2).Store(c + 0*ldc + 32);
        (Vector512.Load(c + 0*ldc + 48) + c0_3).Store(c + 0*ldc + 48);
        (Vector512.Load(c + 0*ldc + 64) + c0_4).Store(c + 0*ldc + 64);
        (Vector512.Load(c + 0*ldc + 80) + c0_5).Store(c + 0*ldc + 80);
        (Vector512.Load(c + 1*ldc + 0) + c1_0).Store(c + 1*ldc + 0);
        (Vector512.Load(c + 1*ldc + 16) + c1_1).Store(c + 1*ldc + 16);
        (Vector512.Load(c + 1*ldc + 32) + c1_2).Store(c + 1*ldc + 32);
        (Vector512.Load(c + 1*ldc + 48) + c1_3).Store(c + 1*ldc + 48);
        (Vector512.Load(c + 1*ldc + 64) + c1_4).Store(c + 1*ldc + 64);
        (Vector512.Load(c + 1*ldc + 80) + c1_5).Store(c + 1*ldc + 80);
        (Vector512.Load(c + 2*ldc + 0) + c2_0).Store(c + 2*ldc + 0);
        (Vector512.Load(c + 2*ldc + 16) + c2_1).Store(c + 2*ldc + 16);
        (Vector512.Load(c + 2*ldc + 32) + c2_2).Store(c + 2*ldc + 32);
        (Vector512.Load(c + 2*ldc + 48) + c2_3).Store(c + 2*ldc + 48);
        (Vector512.Load(c + 2*ldc + 64) + c2_4).Store(c + 2*ldc + 64);
        (Vector512.Load(c + 2*ldc + 80) + c2_5).Store(c + 2*ldc + 80);
        (Vector512.Load(c + 3*ldc + 0) + c3_0).Store(c + 3*ldc + 0);
        (Vector512.Load(c + 3*ldc + 16) + c3_1).Store(c + 3*ldc + 16);
        (Vector512.Load(c + 3*ldc + 32) + c3_2).Store(c + 3*ldc + 32);
        (Vector512.Load(c + 3*ldc + 48) + c3_3).Store(c + 3*ldc + 48);
        (Vector512.Load(c + 3*ldc + 64) + c3_4).Store(c + 3*ldc + 64);
        (Vector512.Load(c + 3*ldc + 80) + c3_5).Store(c + 3*ldc + 80);
    }
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void K5x80(int kc, float* a, float* b, float* c, int ldc) {
        Vector512<float> c0_0 = default, c0_1 = default, c0_2 = default, c0_3 = default, c0_4 = default, c1_0 = default, c1_1 = default, c1_2 = default, c1_3 = default, c1_4 = default, c2_0 = default, c2_1 = default, c2_2 = default, c2_3 = default, c2_4 = default, c3_0 = default, c3_1 = default, c3_2 = default, c3_3 = default, c3_4 = default, c4_0 = default, c4_1 = default, c4_2 = default, c4_3 = default, c4_4 = default;
        int p = 0;
        for (; p < kc; p++) {
            var b0 = Vector512.Load(b + 0);
            var b1 = Vector512.Load(b + 16);
            var b2 = Vector512.Load(b + 32);
            var b3 = Vector512.Load(b + 48);
            var b4 = Vector512.Load(b + 64);
            { var x = Vector512.Create(a[0]);
              c0_0 = Vector512.FusedMultiplyAdd(x, b0, c0_0);
              c0_1 = Vector512.FusedMultiplyAdd(x, b1, c0_1);
              c0_2 = Vector512.FusedMultiplyAdd(x, b2, c0_2);
              c0_3 = Vector512.FusedMultiplyAdd(x, b3, c0_3);
              c0_4 = Vector512.FusedMultiplyAdd(x, b4, c0_4);
            }
            { var x = Vector512.Create(a[1]);
              c1_0 = Vector512.FusedMultiplyAdd(x, b0, c1_0);
              c1_1 = Vector512.FusedMultiplyAdd(x, b1, c1_1);
              c1_2 = Vector512.FusedMultiplyAdd(x, b2, c1_2);
              c1_3 = Vector512.FusedMultiplyAdd(x, b3, c1_3);
              c1_4 = Vector512.FusedMultiplyAdd(x, b4, c1_4);
            }
            { var x = Vector512.Create(a[2]);
              c2_0 = Vector512.FusedMultiplyAdd(x, b0, c2_0);
              c2_1 = Vector512.FusedMultiplyAdd(x, b1, c2_1);
              c2_2 = Vector512.FusedMultiplyAdd(x, b2, c2_2);
              c2_3 = Vector512.FusedMultiplyAdd(x, b3, c2_3);
              c2_4 = Vector512.FusedMultiplyAdd(x, b4, c2_4);
            }
            { var x = Vector512.Create(a[3]);
              c3_0 = Vector512.FusedMultiplyAdd(x, b0, c3_0);
              c3_1 = Vector512.FusedMultiplyAdd(x, b1, c3_1);
              c3_2 = Vector512.FusedMultiplyAdd(x, b2, c3_2);
              c3_3 = Vector512.FusedMultiplyAdd(x, b3, c3_3);
              c3_4 = Vector512.FusedMultiplyAdd(x, b4, c3_4);
            }
            { var x = Vector512.Create(a[4]);
              c4_0 = Vector512.FusedMultiplyAdd(x, b0, c4_0);
              c4_1 = Vector512.FusedMultiplyAdd(x, b1, c4_1);
              c4_2 = Vector512.FusedMultiplyAdd(x, b2, c4_2);
              c4_3 = Vector512.FusedMultiplyAdd(x, b3, c4_3);
              c4_4 = Vector512.FusedMultiplyAdd(x, b4, c4_4);
            }
            a += 5; b += 80;
        }
        (Vector512.Load(c + 0*ldc + 0) + c0_0).Store(c + 0*ldc + 0);
        (Vector512.Load(c + 0*ldc + 16) + c0_1).Store(c + 0*ldc + 16);
        (Vector512.Load(c + 0*ldc + 32) + c0_2).Store(c + 0*ldc + 32);
        (Vector512.Load(c + 0*ldc + 48) + c0_3).Store(c + 0*ldc + 48);
        (Vector512.Load(c + 0*ldc + 64) + c0_4).Store(c + 0*ldc + 64);
        (Vector512.Load(c + 1*ldc + 0) + c1_0).Store(c + 1*ldc + 0);
        (Vector512.Load(c + 1*ldc + 16) + c1_1).Store(c + 1*ldc + 16);
        (Vector512.Load(c + 1*ldc + 32) + c1_2).Store(c + 1*ldc + 32);
        (Vector512.Load(c + 1*ldc + 48) + c1_3).Store(c + 1*ldc + 48);
        (Vector512.Load(c + 1*ldc + 64) + c1_4).Store(c + 1*ldc + 64);
        (Vector512.Load(c + 2*ldc + 0) + c2_0).Store(c + 2*ldc + 0);
        (Vector512.Load(c + 2*ldc + 16) + c2_1).Store(c + 2*ldc + 16);
        (Vector512.Load(c + 2*ldc + 32) + c2_2).Store(c + 2*ldc + 32);
        (Vector512.Load(c + 2*ldc + 48) + c2_3).Store(c + 2*ldc + 48);
        (Vector512.Load(c + 2*ldc + 64) + c2_4).Store(c + 2*ldc + 64);
        (Vector512.Load(c + 3*ldc + 0) + c3_0).Store(c + 3*ldc + 0);
        (Vector512.Load(c + 3*ldc + 16) + c3_1).Store(c + 3*ldc + 16);
        (Vector512.Load(c + 3*ldc + 32) + c3_2).Store(c + 3*ldc + 32);
        (Vector512.Load(c + 3*ldc + 48) + c3_3).Store(c + 3*ldc + 48);
        (Vector512.Load(c + 3*ldc + 64) + c3_4).Store(c + 3*ldc + 64);
        (Vector512.Load(c + 4*ldc + 0) + c4_0).Store(c + 4*ldc + 0);
        (Vector512.Load(c + 4*ldc + 16) + c4_1).Store(c + 4*ldc + 16);
        (Vector512.Load(c + 4*ldc + 32) + c4_2).Store(c + 4*ldc + 32);
        (Vector512.Load(c + 4*ldc + 48) + c4_3).Store(c + 4*ldc + 48);
        (Vector512.Load(c + 4*ldc + 64) + c4_4).Store(c + 4*ldc + 64);
    }
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void K9x48(int kc, float* a, float* b, float* c, int ldc) {
        Vector512<float> c0_0 = default, c0_1 = default, c0_2 = default, c1_0 = default, c1_1 = default, c1_2 = default, c2_0 = default, c2_1 = default, c2_2 = default, c3_0 = default, c3_1 = default, c3_2 = default, c4_0 = default, c4_1 = default, c4_2 = default, c5_0 = default, c5_1 = default, c5_2 = default, c6_0 = default, c6_1 = default, c6_2 = default, c7_0 = default, c7_1 = default, c7_2 = default, c8_0 = default, c8_1 = default, c8_2 = default;
        int p = 0;
        for (; p < kc; p++) {
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
            { var x = Vector512.Create(a[8]);
              c8_0 = Vector512.FusedMultiplyAdd(x, b0, c8_0);
              c8_1 = Vector512.FusedMultiplyAdd(x, b1, c8_1);
              c8_2 = Vector512.FusedMultiplyAdd(x, b2, c8_2);
            }
            a += 9; b += 48;
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
        (Vector512.Load(c + 8*ldc + 0) + c8_0).Store(c + 8*ldc + 0);
        (Vector512.Load(c + 8*ldc + 16) + c8_1).Store(c + 8*ldc + 16);
        (Vector512.Load(c + 8*ldc + 32) + c8_2).Store(c + 8*ldc + 32);
    }
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void K6x64u2(int kc, float* a, float* b, float* c, int ldc) {
        Vector512<float> c0_0 = default, c0_1 = default, c0_2 = default, c0_3 = default, c1_0 = default, c1_1 = default, c1_2 = default, c1_3 = default, c2_0 = default, c2_1 = default, c2_2 = default, c2_3 = default, c3_0 = default, c3_1 = default, c3_2 = default, c3_3 = default, c4_0 = default, c4_1 = default, c4_2 = default, c4_3 = default, c5_0 = default, c5_1 = default, c5_2 = default, c5_3 = default;
        int p = 0;
        for (; p + 1 < kc; p += 2) {
            {
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
            }
            {
            var b0 = Vector512.Load(b + 64);
            var b1 = Vector512.Load(b + 80);
            var b2 = Vector512.Load(b + 96);
            var b3 = Vector512.Load(b + 112);
            { var x = Vector512.Create(a[6]);
              c0_0 = Vector512.FusedMultiplyAdd(x, b0, c0_0);
              c0_1 = Vector512.FusedMultiplyAdd(x, b1, c0_1);
              c0_2 = Vector512.FusedMultiplyAdd(x, b2, c0_2);
              c0_3 = Vector512.FusedMultiplyAdd(x, b3, c0_3);
            }
            { var x = Vector512.Create(a[7]);
              c1_0 = Vector512.FusedMultiplyAdd(x, b0, c1_0);
              c1_1 = Vector512.FusedMultiplyAdd(x, b1, c1_1);
              c1_2 = Vector512.FusedMultiplyAdd(x, b2, c1_2);
              c1_3 = Vector512.FusedMultiplyAdd(x, b3, c1_3);
            }
            { var x = Vector512.Create(a[8]);
              c2_0 = Vector512.FusedMultiplyAdd(x, b0, c2_0);
              c2_1 = Vector512.FusedMultiplyAdd(x, b1, c2_1);
              c2_2 = Vector512.FusedMultiplyAdd(x, b2, c2_2);
              c2_3 = Vector512.FusedMultiplyAdd(x, b3, c2_3);
            }
            { var x = Vector512.Create(a[9]);
              c3_0 = Vector512.FusedMultiplyAdd(x, b0, c3_0);
              c3_1 = Vector512.FusedMultiplyAdd(x, b1, c3_1);
              c3_2 = Vector512.FusedMultiplyAdd(x, b2, c3_2);
              c3_3 = Vector512.FusedMultiplyAdd(x, b3, c3_3);
            }
            { var x = Vector512.Create(a[10]);
              c4_0 = Vector512.FusedMultiplyAdd(x, b0, c4_0);
              c4_1 = Vector512.FusedMultiplyAdd(x, b1, c4_1);
              c4_2 = Vector512.FusedMultiplyAdd(x, b2, c4_2);
              c4_3 = Vector512.FusedMultiplyAdd(x, b3, c4_3);
            }
            { var x = Vector512.Create(a[11]);
              c5_0 = Vector512.FusedMultiplyAdd(x, b0, c5_0);
              c5_1 = Vector512.FusedMultiplyAdd(x, b1, c5_1);
              c5_2 = Vector512.FusedMultiplyAdd(x, b2, c5_2);
              c5_3 = Vector512.FusedMultiplyAdd(x, b3, c5_3);
            }
            }
            a += 12; b += 128;
        }
        for (; p < kc; p++) {
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
    public static void K8x48u2(int kc, float* a, float* b, float* c, int ldc) {
        Vector512<float> c0_0 = default, c0_1 = default, c0_2 = default, c1_0 = default, c1_1 = default, c1_2 = default, c2_0 = default, c2_1 = default, c2_2 = default, c3_0 = default, c3_1 = default, c3_2 = default, c4_0 = default, c4_1 = default, c4_2 = default, c5_0 = default, c5_1 = default, c5_2 = default, c6_0 = default, c6_1 = default, c6_2 = default, c7_0 = default, c7_1 = default, c7_2 = default;
        int p = 0;
        for (; p + 1 < kc; p += 2) {
            {
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
            }
            {
            var b0 = Vector512.Load(b + 48);
            var b1 = Vector512.Load(b + 64);
            var b2 = Vector512.Load(b + 80);
            { var x = Vector512.Create(a[8]);
              c0_0 = Vector512.FusedMultiplyAdd(x, b0, c0_0);
              c0_1 = Vector512.FusedMultiplyAdd(x, b1, c0_1);
              c0_2 = Vector512.FusedMultiplyAdd(x, b2, c0_2);
            }
            { var x = Vector512.Create(a[9]);
              c1_0 = Vector512.FusedMultiplyAdd(x, b0, c1_0);
              c1_1 = Vector512.FusedMultiplyAdd(x, b1, c1_1);
              c1_2 = Vector512.FusedMultiplyAdd(x, b2, c1_2);
            }
            { var x = Vector512.Create(a[10]);
              c2_0 = Vector512.FusedMultiplyAdd(x, b0, c2_0);
              c2_1 = Vector512.FusedMultiplyAdd(x, b1, c2_1);
              c2_2 = Vector512.FusedMultiplyAdd(x, b2, c2_2);
            }
            { var x = Vector512.Create(a[11]);
              c3_0 = Vector512.FusedMultiplyAdd(x, b0, c3_0);
              c3_1 = Vector512.FusedMultiplyAdd(x, b1, c3_1);
              c3_2 = Vector512.FusedMultiplyAdd(x, b2, c3_2);
            }
            { var x = Vector512.Create(a[12]);
              c4_0 = Vector512.FusedMultiplyAdd(x, b0, c4_0);
              c4_1 = Vector512.FusedMultiplyAdd(x, b1, c4_1);
              c4_2 = Vector512.FusedMultiplyAdd(x, b2, c4_2);
            }
            { var x = Vector512.Create(a[13]);
              c5_0 = Vector512.FusedMultiplyAdd(x, b0, c5_0);
              c5_1 = Vector512.FusedMultiplyAdd(x, b1, c5_1);
              c5_2 = Vector512.FusedMultiplyAdd(x, b2, c5_2);
            }
            { var x = Vector512.Create(a[14]);
              c6_0 = Vector512.FusedMultiplyAdd(x, b0, c6_0);
              c6_1 = Vector512.FusedMultiplyAdd(x, b1, c6_1);
              c6_2 = Vector512.FusedMultiplyAdd(x, b2, c6_2);
            }
            { var x = Vector512.Create(a[15]);
              c7_0 = Vector512.FusedMultiplyAdd(x, b0, c7_0);
              c7_1 = Vector512.FusedMultiplyAdd(x, b1, c7_1);
              c7_2 = Vector512.FusedMultiplyAdd(x, b2, c7_2);
            }
            }
            a += 16; b += 96;
        }
        for (; p < kc; p++) {
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
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void K3x128(int kc, float* a, float* b, float* c, int ldc) {
        Vector512<float> c0_0 = default, c0_1 = default, c0_2 = default, c0_3 = default, c0_4 = default, c0_5 = default, c0_6 = default, c0_7 = default, c1_0 = default, c1_1 = default, c1_2 = default, c1_3 = default, c1_4 = default, c1_5 = default, c1_6 = default, c1_7 = default, c2_0 = default, c2_1 = default, c2_2 = default, c2_3 = default, c2_4 = default, c2_5 = default, c2_6 = default, c2_7 = default;
        int p = 0;
        for (; p < kc; p++) {
            var b0 = Vector512.Load(b + 0);
            var b1 = Vector512.Load(b + 16);
            var b2 = Vector512.Load(b + 32);
            var b3 = Vector512.Load(b + 48);
            var b4 = Vector512.Load(b + 64);
            var b5 = Vector512.Load(b + 80);
            var b6 = Vector512.Load(b + 96);
            var b7 = Vector512.Load(b + 112);
            { var x = Vector512.Create(a[0]);
              c0_0 = Vector512.FusedMultiplyAdd(x, b0, c0_0);
              c0_1 = Vector512.FusedMultiplyAdd(x, b1, c0_1);
              c0_2 = Vector512.FusedMultiplyAdd(x, b2, c0_2);
              c0_3 = Vector512.FusedMultiplyAdd(x, b3, c0_3);
              c0_4 = Vector512.FusedMultiplyAdd(x, b4, c0_4);
              c0_5 = Vector512.FusedMultiplyAdd(x, b5, c0_5);
              c0_6 = Vector512.FusedMultiplyAdd(x, b6, c0_6);
              c0_7 = Vector512.FusedMultiplyAdd(x, b7, c0_7);
            }
            { var x = Vector512.Create(a[1]);
              c1_0 = Vector512.FusedMultiplyAdd(x, b0, c1_0);
              c1_1 = Vector512.FusedMultiplyAdd(x, b1, c1_1);
              c1_2 = Vector512.FusedMultiplyAdd(x, b2, c1_2);
              c1_3 = Vector512.FusedMultiplyAdd(x, b3, c1_3);
              c1_4 = Vector512.FusedMultiplyAdd(x, b4, c1_4);
              c1_5 = Vector512.FusedMultiplyAdd(x, b5, c1_5);
              c1_6 = Vector512.FusedMultiplyAdd(x, b6, c1_6);
              c1_7 = Vector512.FusedMultiplyAdd(x, b7, c1_7);
            }
            { var x = Vector512.Create(a[2]);
              c2_0 = Vector512.FusedMultiplyAdd(x, b0, c2_0);
              c2_1 = Vector512.FusedMultiplyAdd(x, b1, c2_1);
              c2_2 = Vector512.FusedMultiplyAdd(x, b2, c2_2);
              c2_3 = Vector512.FusedMultiplyAdd(x, b3, c2_3);
              c2_4 = Vector512.FusedMultiplyAdd(x, b4, c2_4);
              c2_5 = Vector512.FusedMultiplyAdd(x, b5, c2_5);
              c2_6 = Vector512.FusedMultiplyAdd(x, b6, c2_6);
              c2_7 = Vector512.FusedMultiplyAdd(x, b7, c2_7);
            }
            a += 3; b += 128;
        }
        (Vector512.Load(c + 0*ldc + 0) + c0_0).Store(c + 0*ldc + 0);
        (Vector512.Load(c + 0*ldc + 16) + c0_1).Store(c + 0*ldc + 16);
        (Vector512.Load(c + 0*ldc + 32) + c0_2).Store(c + 0*ldc + 32);
        (Vector512.Load(c + 0*ldc + 48) + c0_3).Store(c + 0*ldc + 48);
        (Vector512.Load(c + 0*ldc + 64) + c0_4).Store(c + 0*ldc + 64);
        (Vector512.Load(c + 0*ldc + 80) + c0_5).Store(c + 0*ldc + 80);
        (Vector512.Load(c + 0*ldc + 96) + c0_6).Store(c + 0*ldc + 96);
        (Vector512.Load(c + 0*ldc + 112) + c0_7).Store(c + 0*ldc + 112);
        (Vector512.Load(c + 1*ldc + 0) + c1_0).Store(c + 1*ldc + 0);
        (Vector512.Load(c + 1*ldc + 16) + c1_1).Store(c + 1*ldc + 16);
        (Vector512.Load(c + 1*ldc + 32) + c1_2).Store(c + 1*ldc + 32);
        (Vector512.Load(c + 1*ldc + 48) + c1_3).Store(c + 1*ldc + 48);
        (Vector512.Load(c + 1*ldc + 64) + c1_4).Store(c + 1*ldc + 64);
        (Vector512.Load(c + 1*ldc + 80) + c1_5).Store(c + 1*ldc + 80);
        (Vector512.Load(c + 1*ldc + 96) + c1_6).Store(c + 1*ldc + 96);
        (Vector512.Load(c + 1*ldc + 112) + c1_7).Store(c + 1*ldc + 112);
        (Vector512.Load(c + 2*ldc + 0) + c2_0).Store(c + 2*ldc + 0);
        (Vector512.Load(c + 2*ldc + 16) + c2_1).Store(c + 2*ldc + 16);
        (Vector512.Load(c + 2*ldc + 32) + c2_2).Store(c + 2*ldc + 32);
        (Vector512.Load(c + 2*ldc + 48) + c2_3).Store(c + 2*ldc + 48);
        (Vector512.Load(c + 2*ldc + 64) + c2_4).Store(c + 2*ldc + 64);
        (Vector512.Load(c + 2*ldc + 80) + c2_5).Store(c + 2*ldc + 80);
        (Vector512.Load(c + 2*ldc + 96) + c2_6).Store(c + 2*ldc + 96);
        (Vector512.Load(c + 2*ldc + 112) + c2_7).Store(c + 2*ldc + 112);
    }
    public static (int, int, Kern.KernelFn)[] All = [(4, 96, K4x96), (5, 80, K5x80), (9, 48, K9x48), (6, 64, K6x64u2), (8, 48, K8x48u2), (3, 128, K3x128)];
}