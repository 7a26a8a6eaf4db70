"""Create or refresh an addon's Indonesian catalogue from its .pot.

usage: python scripts/make_id_po.py addons/<addon>

Existing translations in i18n/id.po are kept; strings of the glossary
below are filled in; the rest stay untranslated (Odoo shows English).
"""

import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

GLOSSARY = {
    "Operator": "Operator",
    "Technician": "Teknisi",
    "Supervisor": "Supervisor",
    "Manager": "Manajer",
    "Requested": "Diminta",
    "Approved": "Disetujui",
    "In progress": "Sedang dikerjakan",
    "Done, awaiting verification": "Selesai, menunggu verifikasi",
    "Awaiting verification": "Menunggu verifikasi",
    "Closed": "Ditutup",
    "Cancelled": "Dibatalkan",
    "Low": "Rendah",
    "Medium": "Sedang",
    "High": "Tinggi",
    "Urgent": "Mendesak",
    "Critical": "Kritis",
    "Warning": "Peringatan",
    "Advisory": "Saran",
    "My tasks": "Tugas saya",
    "My requests": "Permintaan saya",
    "Start work": "Mulai kerja",
    "Complete": "Selesaikan",
    "Approve and assign": "Setujui dan tugaskan",
    "Verify and close": "Verifikasi dan tutup",
    "Reject": "Tolak",
    "Cancel work order": "Batalkan work order",
    "Spare-part stock": "Stok suku cadang",
    "Adjust spare-part stock": "Sesuaikan stok suku cadang",
    "Budgets": "Anggaran",
    "Photos": "Foto",
    "Completion": "Penyelesaian",
    "Costs": "Biaya",
    "SLA breached": "SLA terlampaui",
    "SLA deadline": "Batas waktu SLA",
    "Status": "Status",
    "Person": "Orang",
    "Preventive plan": "Rencana preventif",
    "Alert": "Alarm",
    "Alerts": "Alarm",
    "Sensors": "Sensor",
    "Register a user": "Daftarkan pengguna",
    "Register": "Daftarkan",
    "Deactivate": "Nonaktifkan",
    "Confirm": "Konfirmasi",
    "Discard": "Buang",
    "Give a reason.": "Berikan alasan.",
    "Only PNG, JPEG or GIF photos are accepted (judged from the file).": (
        "Hanya foto PNG, JPEG, atau GIF yang diterima (dinilai dari isi file)."
    ),
    "Technicians do not request work orders; ask a supervisor.": (
        "Teknisi tidak membuat permintaan work order; minta ke supervisor."
    ),
    "Use the work order's buttons to change its status.": (
        "Gunakan tombol work order untuk mengubah statusnya."
    ),
    "Maintenance KPIs": "KPI perawatan",
    "To verify and assign": "Untuk diverifikasi dan ditugaskan",
    "Parts used": "Suku cadang terpakai",
    "Acknowledge": "Terima",
    "Resolve": "Selesaikan",
    "Create work order": "Buat work order",
    "Raised": "Muncul",
    "Acknowledged": "Diterima",
    "Resolved": "Diselesaikan",
}


def main(addon: str) -> None:
    folder = Path(addon) / "i18n"
    name = Path(addon).name
    with open(folder / f"{name}.pot", "rb") as handle:
        template = read_po(handle)
    old = {}
    target = folder / "id.po"
    if target.exists():
        with open(target, "rb") as handle:
            old = {m.id: m.string for m in read_po(handle) if m.id and m.string}
    template.locale = "id"
    template.language_team = "Indonesian"
    for message in template:
        if message.id:
            message.string = old.get(message.id) or GLOSSARY.get(message.id, "")
    with open(target, "wb") as handle:
        write_po(handle, template, width=78)


if __name__ == "__main__":
    main(sys.argv[1])
