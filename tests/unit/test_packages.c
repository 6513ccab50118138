/* Unit tests of the parametric-sweep package reader (core/packages.c): a good directory
 * read in package_id order with each package's priority, description and parameters,
 * and each kind of problem reported with its file (all of them at once). Each test
 * writes its own directory under mkdtemp(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/packages.h"
#include "core/spec.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct fixture {
    char dir[64];
    struct packages pk;
    struct err err;
};

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    if (!f)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/sweep-test-packages-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    packages_fini(&f->pk);
    nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static void put(struct fixture *f, const char *name, const char *text)
{
    char path[160];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/%s", f->dir, name);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static const char summary[] =
    "{\"HIGH\": [{\"package_id\": 2, \"priority\": \"HIGH\", \"description\": \"hot\","
    " \"parameters\": {\"Re\": [1000]}}],"
    " \"LOW\": [{\"package_id\": 1}, {\"package_id\": 10}]}";

static void put_good(struct fixture *f)
{
    put(f, "priority_summary.json", summary);
    put(f, "package_0001.json",
        "{\"package_id\": 1, \"Re\": 100, \"priority\": \"low\"}");
    put(f, "package_0002.json",
        "{\"package_id\": 2, \"Re\": 1000, \"grid_size\": [64, 64, 64]}");
    put(f, "package_0010.json",
        "{\"package_id\": 10, \"Re\": 50, \"description\": \"x\"}");
    put(f, "README.txt", "other files are left alone");
}

static void test_good_directory(void **state)
{
    struct fixture *f = *state;

    put_good(f);
    assert_int_equal(packages_load(f->dir, &f->pk, &f->err), 0);
    assert_int_equal(f->pk.n, 3);
    assert_int_equal(f->pk.v[0].id, 1);
    assert_int_equal(f->pk.v[1].id, 2);
    assert_int_equal(f->pk.v[2].id, 10);
    assert_int_equal(f->pk.v[0].priority, PRIORITY_LOW);
    assert_int_equal(f->pk.v[1].priority, PRIORITY_HIGH);
    assert_string_equal(f->pk.v[1].description, "hot");
    assert_null(f->pk.v[0].description);
    assert_non_null(strstr(f->pk.v[2].path, "package_0010.json"));
    assert_ptr_equal(packages_find(&f->pk, 10), &f->pk.v[2]);
    assert_null(packages_find(&f->pk, 3));

    /* Parameters: the file without package_id, priority and description. */
    json_t *p = packages_params(&f->pk.v[2], false);
    char *s = json_dumps(p, JSON_SORT_KEYS | JSON_COMPACT);
    assert_string_equal(s, "{\"Re\":50}");
    free(s);
    json_decref(p);
    p = packages_params(&f->pk.v[1], true);
    s = json_dumps(p, JSON_SORT_KEYS | JSON_COMPACT);
    assert_string_equal(s, "{\"Re\":1000,\"grid_size\":[64,64,64],\"package_id\":2}");
    free(s);
    json_decref(p);

    char name[32];
    packages_name(7, name, sizeof(name));
    assert_string_equal(name, "package_0007");
    packages_name(12345, name, sizeof(name));
    assert_string_equal(name, "package_12345");
}

/* One bad thing at a time: the code and a piece of the message that names the file. */
static void test_each_problem(void **state)
{
    struct fixture *f = *state;
    static const struct {
        const char *file, *text; /* written over the good directory */
        int code;
        const char *want;
    } cases[] = {
        {"priority_summary.json", "{\"HIGH\": [", SWEEP_EINVAL,
         "priority_summary.json:1:"},
        {"priority_summary.json", "[1, 2]", SWEEP_EINVAL, "expected a JSON object"},
        {"priority_summary.json", "{\"URGENT\": []}", SWEEP_EINVAL,
         "unexpected key \"URGENT\": expected HIGH, MEDIUM or LOW"},
        {"priority_summary.json", "{\"HIGH\": {}}", SWEEP_EINVAL,
         "HIGH: expected a list of packages"},
        {"priority_summary.json", "{\"HIGH\": [{\"package_id\": \"one\"}]}",
         SWEEP_EINVAL, "HIGH[0].package_id: expected a non-negative integer"},
        {"priority_summary.json",
         "{\"HIGH\": [{\"package_id\": 1, \"priority\": \"LOW\"}]}", SWEEP_EINVAL,
         "HIGH[0].priority: expected \"HIGH\""},
        {"priority_summary.json",
         "{\"HIGH\": [{\"package_id\": 1}], \"LOW\": [{\"package_id\": 1}]}",
         SWEEP_EINVAL, "package 1 is listed twice (HIGH[0] and LOW[0])"},
        {"priority_summary.json", "{}", SWEEP_EINVAL,
         "package_0002.json: package 2 is not listed"},
        {"package_0002.json", "{\"package_id\": 3}", SWEEP_EINVAL,
         "package_0002.json: package_id: expected 2"},
        {"package_0002.json", "{\"package_id\": 2, \"priority\": \"LOW\"}",
         SWEEP_EINVAL, "package_0002.json: priority: expected \"HIGH\""},
        {"package_0002.json", "{\"package_id\": 2,\n \"Re\": }", SWEEP_EINVAL,
         "package_0002.json:2:"},
        {"package_7.json", "{\"package_id\": 7}", SWEEP_EINVAL,
         "package_7.json: package 7 is not listed in priority_summary.json"},
        {"package_0001.json", "{\"package_id\": 1}", SWEEP_OK, NULL},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        put_good(f);
        if (strcmp(cases[i].file, "package_7.json") != 0) {
            char path[160];
            snprintf(path, sizeof(path), "%s/package_7.json", f->dir);
            unlink(path);
        }
        put(f, cases[i].file, cases[i].text);
        int rc = packages_load(f->dir, &f->pk, &f->err);
        if (rc != cases[i].code ||
            (cases[i].want && !strstr(f->err.msg, cases[i].want)))
            fail_msg("case %zu: got %d \"%s\", expected %d \"%s\"", i, rc, f->err.msg,
                     cases[i].code, cases[i].want ? cases[i].want : "");
        if (rc)
            assert_int_equal(f->pk.n, 0); /* nothing half-loaded */
        packages_fini(&f->pk);
    }
}

/* Several problems: all of them in one message; missing paths: ENOTFOUND. */
static void test_all_problems_and_missing(void **state)
{
    struct fixture *f = *state;
    char path[160];

    put_good(f);
    snprintf(path, sizeof(path), "%s/package_0010.json", f->dir);
    unlink(path);
    put(f, "package_0005.json", "{\"package_id\": 5}");
    assert_int_equal(packages_load(f->dir, &f->pk, &f->err), SWEEP_EINVAL);
    assert_non_null(strstr(f->err.msg, "2 problems"));
    assert_non_null(strstr(f->err.msg, "package 5 is not listed"));
    assert_non_null(strstr(f->err.msg, "lists package 10, but"));

    /* No package at all. */
    for (int id = 1; id <= 10; id++) {
        snprintf(path, sizeof(path), "%s/package_%04d.json", f->dir, id);
        unlink(path);
    }
    put(f, "priority_summary.json", "{\"HIGH\": []}");
    assert_int_equal(packages_load(f->dir, &f->pk, &f->err), SWEEP_EINVAL);
    assert_non_null(strstr(f->err.msg, "no packages"));

    snprintf(path, sizeof(path), "%s/priority_summary.json", f->dir);
    unlink(path);
    assert_int_equal(packages_load(f->dir, &f->pk, &f->err), SWEEP_ENOTFOUND);
    assert_non_null(strstr(f->err.msg, "priority_summary.json: not found"));
    snprintf(path, sizeof(path), "%s/nowhere", f->dir);
    assert_int_equal(packages_load(path, &f->pk, &f->err), SWEEP_ENOTFOUND);
    assert_non_null(strstr(f->err.msg, "no such directory"));
}

/* Problems reported together and each once: an invalid package file is not also
 * "missing"; a file named like a package file that does not follow the pattern is
 * reported; a summary that cannot be read does not make every package "not listed". */
static void test_each_problem_once(void **state)
{
    struct fixture *f = *state;
    char path[160];

    put_good(f);
    put(f, "package_0002.json", "{\"package_id\": 2,\n \"Re\": }");
    put(f, "package_0010.json", "{\"package_id\": 11}");
    assert_int_equal(packages_load(f->dir, &f->pk, &f->err), SWEEP_EINVAL);
    assert_non_null(strstr(f->err.msg, "2 problems"));
    assert_non_null(strstr(f->err.msg, "package_0002.json:2:"));
    assert_non_null(strstr(f->err.msg, "package_0010.json: package_id: expected 10"));
    assert_null(strstr(f->err.msg, "does not exist"));

    /* Ten digits: reported, with the name to give it, and not also "missing". */
    put_good(f);
    snprintf(path, sizeof(path), "%s/package_0002.json", f->dir);
    unlink(path);
    put(f, "package_0000000002.json", "{\"package_id\": 2}");
    put(f, "Package-7.JSON", "{\"package_id\": 7}");
    put(f, "package_0001.json.bak", "left alone");
    put(f, "package.json", "{\"name\": \"left alone too\"}");
    assert_int_equal(packages_load(f->dir, &f->pk, &f->err), SWEEP_EINVAL);
    assert_non_null(strstr(f->err.msg, "2 problems"));
    assert_non_null(strstr(f->err.msg, "package_0000000002.json: not a package file "
                                       "name: expected package_N.json with N of 1 to "
                                       "9 digits (rename it package_0002.json)"));
    assert_non_null(strstr(f->err.msg, "Package-7.JSON: not a package file name"));
    /* In the order of the file names. */
    assert_true(strstr(f->err.msg, "Package-7") < strstr(f->err.msg, "package_0000"));
    assert_null(strstr(f->err.msg, "does not exist"));
    unlink(path); /* back to the good directory for the next case */
    snprintf(path, sizeof(path), "%s/package_0000000002.json", f->dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/Package-7.JSON", f->dir);
    unlink(path);

    /* A broken summary and a broken package: both, and no "not listed". */
    put_good(f);
    put(f, "priority_summary.json", "{\"HIGH\": [");
    put(f, "package_0010.json", "[]");
    assert_int_equal(packages_load(f->dir, &f->pk, &f->err), SWEEP_EINVAL);
    assert_non_null(strstr(f->err.msg, "2 problems"));
    assert_non_null(strstr(f->err.msg, "priority_summary.json:1:"));
    assert_non_null(strstr(f->err.msg, "package_0010.json: expected a JSON object"));
    assert_null(strstr(f->err.msg, "not listed"));
}

/* The caller's check runs on every package read, and its problems join the others. */
static int check_re(const struct package *p, void *arg, struct err *err)
{
    json_t *re = json_object_get(p->config, "Re");
    (void)arg;
    if (json_is_number(re) && json_number_value(re) >= 100)
        return 0;
    return err_set(err, SWEEP_EINVAL, "Re: expected a number >= 100");
}

static void test_check_every_package(void **state)
{
    struct fixture *f = *state;

    put_good(f);
    put(f, "package_0007.json", "{\"package_id\": 7}");
    assert_int_equal(packages_load_checked(f->dir, &f->pk, check_re, NULL, &f->err),
                     SWEEP_EINVAL);
    assert_non_null(strstr(f->err.msg, "2 problems"));
    assert_non_null(strstr(f->err.msg, "package 7 is not listed"));
    assert_non_null(strstr(f->err.msg, "package_0010.json: Re: expected a number"));
    assert_int_equal(f->pk.n, 0);
    put(f, "package_0010.json", "{\"package_id\": 10, \"Re\": 500}");
    put(f, "package_0007.json", "{\"package_id\": 1}");
    assert_int_equal(packages_load_checked(f->dir, &f->pk, check_re, NULL, &f->err),
                     SWEEP_EINVAL);
    assert_non_null(strstr(f->err.msg, "package_0007.json: package_id: expected 7"));
    packages_fini(&f->pk);
    char path[160];
    snprintf(path, sizeof(path), "%s/package_0007.json", f->dir);
    unlink(path);
    assert_int_equal(packages_load_checked(f->dir, &f->pk, check_re, NULL, &f->err), 0);
    assert_int_equal(f->pk.n, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_good_directory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_each_problem, setup, teardown),
        cmocka_unit_test_setup_teardown(test_all_problems_and_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_each_problem_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_every_package, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
