"""Benchmark of the maintenance KPIs (prints figures; not a test).

On a throwaway database (a private PostgreSQL and an Odoo 18 with
cmms_parfum, no demo data, started in a temporary folder): 500 machines and
100,000 work orders spread over two years with costs, hours and schedules,
and downtime intervals when the downtime model is installed; then the time
of ``cmms.kpi.compute_kpis`` (the method the dashboard, the reports and
the RPC clients call) for one year, for all machines and grouped per
machine, as a manager, in Odoo's own shell.

The data is inserted with SQL (creating 100,000 work orders through the ORM
would take longer than the whole test suite); the KPI computation is the
product's own code path.

usage: .venv/bin/python -m scripts.bench_kpi [--machines 500] [--work-orders 100000]
Last line: ``kpi: <work orders> work orders, <machines> machines, <seconds> s``.
"""

# ruff: noqa: E501 (the Odoo shell script below is data)
from __future__ import annotations

import argparse
import subprocess
import sys

from devkit import stack

SHELL = r"""
import time
from datetime import date, timedelta
env = env(context=dict(env.context, tz="UTC"))
machines, work_orders = {machines}, {work_orders}
company = env.company
team = env["maintenance.team"].search([], limit=1) or env["maintenance.team"].create({{"name": "Bench"}})
cr = env.cr
areas = ["Compounding", "Filling line 1", "Filling line 2", "Utilities", "Converting"]
cats = env["maintenance.equipment.category"].create([{{"name": f"Bench category {{i}}"}} for i in range(10)])
cr.execute('''
    INSERT INTO maintenance_equipment (name, company_id, effective_date, cmms_kind, criticality,
                                       machine_status, tolerance_mode,
                                       active, category_id, process_area, cmms_tag)
    SELECT jsonb_build_object('en_US', 'Bench machine ' || g), %s, '2024-01-01', 'machine', 'medium',
           'running', 'span', true,
           (%s::int[])[1 + g %% 10], (%s::text[])[1 + g %% 5], 'BM-' || g
      FROM generate_series(1, %s) g
''', [company.id, cats.ids, areas, machines])
cr.execute("SELECT min(id), max(id) FROM maintenance_equipment WHERE cmms_tag LIKE 'BM-%%'")
low, high = cr.fetchone()
user = env["res.users"].create({{"name": "Bench manager", "login": "bench_mgr",
    "groups_id": [(4, env.ref("cmms_parfum.cmms_parfum_group_manager").id)], "tz": "UTC"}})
today = date.today()
start = today - timedelta(days=730)
cr.execute('''
    INSERT INTO maintenance_request (name, company_id, maintenance_team_id, kanban_state,
        cmms_state, cmms_priority, source, maintenance_type, equipment_id, requested_at,
        request_date, schedule_date, approved_at, started_at, completed_at, closed_at,
        sla_deadline, actual_duration, labor_cost, parts_cost, external_cost, total_cost,
        priority)
    SELECT 'Bench WO ' || g, %(company)s, %(team)s, 'normal',
           CASE WHEN g %% 50 = 0 THEN 'cancelled' WHEN g %% 23 = 0 THEN 'approved'
                WHEN g %% 29 = 0 THEN 'in_progress' ELSE 'closed' END,
           (ARRAY['low', 'medium', 'high', 'urgent'])[1 + g %% 4], 'person',
           CASE WHEN g %% 3 = 0 THEN 'preventive' ELSE 'corrective' END,
           %(low)s + g %% (%(high)s - %(low)s + 1),
           t, t::date, t + interval '2 hours', t + interval '1 hour',
           t + interval '3 hours', t + (1 + g %% 48) * interval '1 hour',
           t + (2 + g %% 48) * interval '1 hour', t + interval '24 hours',
           0.5 + (g %% 8), 20 * (0.5 + (g %% 8)), g %% 300, 0, 20 * (0.5 + (g %% 8)) + g %% 300,
           '1'
      FROM (SELECT g, %(start)s::timestamp + (g * 730.0 / %(n)s) * interval '1 day' AS t
              FROM generate_series(1, %(n)s) g) s
''', {{"company": company.id, "team": team.id, "low": low, "high": high, "start": start, "n": work_orders}})
cr.execute("UPDATE maintenance_request SET completed_at = NULL, closed_at = NULL WHERE cmms_state IN ('approved', 'in_progress', 'cancelled') AND name LIKE 'Bench WO %%'")
downtime = 0
if "cmms.downtime.event" in env and "end" in env["cmms.downtime.event"]._fields:
    Downtime = env["cmms.downtime.event"]
    cols = {{"equipment_id", "start", "end", "source"}}
    cr.execute('''
        INSERT INTO cmms_downtime_event (equipment_id, company_id, start, "end", duration_min, source)
        SELECT equipment_id, company_id, started_at, completed_at,
               EXTRACT(EPOCH FROM completed_at - started_at) / 60, 'work_order'
          FROM maintenance_request
         WHERE name LIKE 'Bench WO %%' AND maintenance_type = 'corrective' AND completed_at IS NOT NULL
    ''')
    downtime = cr.rowcount
cr.execute("ANALYZE")
env.invalidate_all()
env.registry.clear_cache()
cr.commit()
KPI = env["cmms.kpi"].with_user(user)
first, last = today - timedelta(days=365), today
KPI.compute_kpis(first, last)  # warm-up: caches, plans
times = []
for _ in range(3):
    t0 = time.perf_counter()
    plant = KPI.compute_kpis(first, last)
    per_machine = KPI.compute_kpis(first, last, groupby="machine")
    times.append(time.perf_counter() - t0)
best = min(times)
print(f"downtime intervals: {{downtime}}")
print(f"plant: {{plant['kpis']['work_orders_completed']}} work orders completed in the year, MTTR {{plant['kpis']['mttr_hours']}} h, availability {{plant['kpis']['availability_pct']}} %")
print(f"per machine: {{len(per_machine['groups'])}} groups")
print(f"runs (plant + per machine): {{', '.join(f'{{t:.3f}}' for t in times)}} s")
print(f"kpi: {{work_orders}} work orders, {{machines}} machines, {{best:.3f}} s")
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--machines", type=int, default=500)
    parser.add_argument("--work-orders", type=int, default=100_000)
    args = parser.parse_args()
    root = stack.odoo_root()
    if root is None:
        print("no Odoo 18 importable")
        return 2
    with stack.services(mqtt=False) as (base, pg, _):
        odoo = stack.Odoo(pg, base / "odoo", root)
        print("installing cmms_parfum without demo data...", flush=True)
        rc = odoo.run(
            ["-d", "bench_kpi", "-i", "cmms_parfum", "--without-demo=all", "--stop-after-init"],
            base / "install.log",
        )
        if rc:
            print((base / "install.log").read_text()[-3000:])
            return 1
        print(
            f"creating {args.machines} machines and {args.work_orders} work orders...", flush=True
        )
        script = SHELL.format(machines=args.machines, work_orders=args.work_orders)
        proc = subprocess.run(
            odoo.command("-d", "bench_kpi", "--log-level=warn", subcommand="shell"),
            input=script,
            text=True,
            capture_output=True,
        )
        lines = [line for line in proc.stdout.splitlines() if line.strip()]
        print("\n".join(lines[-5:]))
        if proc.returncode or not lines or not lines[-1].startswith("kpi:"):
            print(proc.stderr[-3000:])
            return 1
        return 0


if __name__ == "__main__":
    sys.exit(main())
