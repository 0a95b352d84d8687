"""Forms of the strategy page: upload a new version (file or pasted text) and activate a version."""
from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

#: the largest strategy file accepted (a strategy is a few kilobytes of YAML)
MAX_UPLOAD_BYTES = 512 * 1024


class UploadForm(forms.Form):
    file = forms.FileField(label=_("策略文件 (YAML)"), required=False)
    text = forms.CharField(label=_("或粘贴策略内容 (YAML)"), required=False, strip=False,
                           widget=forms.Textarea(attrs={"rows": 12, "spellcheck": "false"}))
    note = forms.CharField(label=_("说明"), required=False, max_length=255)

    def clean(self):
        data = super().clean()
        upload, text = data.get("file"), data.get("text") or ""
        if upload and text.strip():
            raise forms.ValidationError(_("请上传文件或粘贴内容，二者选一。"))
        if upload:
            if upload.size > MAX_UPLOAD_BYTES:
                raise forms.ValidationError(_("文件过大（上限 512 KB）。"))
            try:
                data["source"] = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                raise forms.ValidationError(_("文件不是 UTF-8 编码的文本。")) from None
            data["source_name"] = upload.name
        elif text.strip():
            data["source"] = text.replace("\r\n", "\n")
            data["source_name"] = "upload"
        else:
            raise forms.ValidationError(_("请选择策略文件或粘贴策略内容。"))
        return data


class ActivateForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    confirm = forms.BooleanField(label=_("我已核对与生效版本的差异，确认启用此版本"),
                                 error_messages={"required": _("请勾选确认后再启用。")})
    reason = forms.CharField(label=_("启用原因"), required=False, max_length=255)
