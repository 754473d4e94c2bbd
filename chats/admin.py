"""Django admin for the host product: enough to complete, delete and give feedback on chats."""

from django.contrib import admin

from .models import Chat, Feedback, Flow, Prompt, Response


class PromptInline(admin.TabularInline):
    model = Prompt
    extra = 1


@admin.register(Flow)
class FlowAdmin(admin.ModelAdmin):
    list_display = ["name", "account", "created_at"]
    list_filter = ["account"]
    search_fields = ["name"]
    readonly_fields = ["share_token"]
    inlines = [PromptInline]


@admin.register(Prompt)
class PromptAdmin(admin.ModelAdmin):
    list_display = ["name", "flow", "position"]
    list_filter = ["flow"]


class ResponseInline(admin.TabularInline):
    model = Response
    extra = 0


@admin.register(Chat)
class ChatAdmin(admin.ModelAdmin):
    list_display = ["identifier", "flow", "status", "score", "started_at", "completed_at"]
    list_filter = ["status", "flow"]
    search_fields = ["identifier"]
    inlines = [ResponseInline]


@admin.register(Response)
class ResponseAdmin(admin.ModelAdmin):
    list_display = ["chat", "prompt", "answer"]
    list_filter = ["prompt__flow"]


@admin.register(Feedback)
class FeedbackAdmin(admin.ModelAdmin):
    list_display = ["response", "text", "updated_at"]
